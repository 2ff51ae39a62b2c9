package rosnode

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/peernet/peernet_go/peernet_go/cdr"
)

// maxDefinitionLines bounds how far into a .msg file HeaderFirst reads.
const maxDefinitionLines = 10000

// HeaderFirst reports whether messages of typeName start with a
// std_msgs/Header, so that their header.stamp can be read without
// decoding the rest (cdr.HeaderStamp). It reads the type's .msg definition
// from the first install prefix of prefixes that has it (a colon-separated
// list such as $AMENT_PREFIX_PATH), and falls back to cdr.HasHeader, which
// knows the common sensor, geometry and navigation types, when no
// definition is found.
func HeaderFirst(typeName, prefixes string) bool {
	pkg, name, err := SplitType(typeName)
	if err != nil {
		return false
	}
	for _, p := range filepath.SplitList(prefixes) {
		if p == "" {
			continue
		}
		first, err := firstFieldType(filepath.Join(p, "share", pkg, "msg", name+".msg"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			break
		}
		switch first {
		case "std_msgs/Header", "std_msgs/msg/Header", "Header":
			return true
		}
		return false
	}
	return cdr.HasHeader(pkg + "/msg/" + name)
}

// firstFieldType returns the type of the first field of a .msg file:
// comments, blank lines and constants are skipped.
func firstFieldType(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for i := 0; sc.Scan() && i < maxDefinitionLines; i++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 || strings.Contains(line, "=") {
			continue
		}
		return fields[0], nil
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return "", nil
}
