package network

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// MaxKeyFile bounds the size of the key and password files transports
// read (CURVE keys, allow-lists, pre-shared keys, broker passwords).
const MaxKeyFile = 64 << 10

// KeyLine is one line of a key file that holds a key.
type KeyLine struct {
	// Line is the line's number in the file, from 1.
	Line int
	// Text is the line without its surrounding white space.
	Text string
}

// ErrKeyExists is returned by WriteKeyFile for a file that is there
// already, unless told to overwrite it.
var ErrKeyExists = errors.New("key file exists")

// ErrKeyFile reports a key file that is too large, unreadable as text, or
// readable by other users when it holds a secret.
var ErrKeyFile = errors.New("bad key file")

// ParseKeyLines returns the lines of a key file that hold keys: all but
// blank lines and comments (lines whose first non-blank character is
// '#'), each trimmed of surrounding white space, in order. A control
// character other than tab or carriage return is an error naming its
// line, so a binary file is never taken for keys. It allocates no more
// than len(b) bytes of text.
//
//	# peernet CURVE public key (Z85)
//	rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
func ParseKeyLines(b []byte) ([]KeyLine, error) {
	if len(b) > MaxKeyFile {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrKeyFile, len(b), MaxKeyFile)
	}
	var keys []KeyLine
	for n := 1; len(b) > 0; n++ {
		line, rest, _ := bytes.Cut(b, []byte{'\n'})
		b = rest
		for _, c := range line {
			if c < ' ' && c != '\t' && c != '\r' || c == 0x7f {
				return nil, fmt.Errorf("%w: line %d holds control character %#02x", ErrKeyFile, n, c)
			}
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		keys = append(keys, KeyLine{Line: n, Text: string(line)})
	}
	return keys, nil
}

// ReadKeyFile reads the key file at path (at most MaxKeyFile bytes) and
// returns its key lines (see ParseKeyLines). With secret set, a file that
// other users may read or write is refused, as ssh refuses such private
// keys: chmod 600 it. Errors name the file.
func ReadKeyFile(path string, secret bool) ([]KeyLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if secret {
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		if perm := st.Mode().Perm(); perm&0o077 != 0 {
			return nil, fmt.Errorf("%w: %s holds a secret but other users may read it (mode %#o); chmod 600 %s", ErrKeyFile, path, perm, path)
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	keys, err := ParseKeyLines(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}

// WriteKeyFile writes text to path with mode perm: 0600 for a secret,
// 0644 for a public key. It refuses, with ErrKeyExists, to replace a file
// that is there unless force is set. The file is written under a
// temporary name in the same directory and renamed, so a reader never
// sees it half written and a replaced file never keeps wider permissions.
func WriteKeyFile(path string, text []byte, perm os.FileMode, force bool) error {
	if !force {
		if err := CheckNoFile(path); err != nil {
			return err
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".peernet-key-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone once renamed
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(text); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// CheckNoFile returns ErrKeyExists, naming path and the --force flag,
// when something is at path.
func CheckNoFile(path string) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%w: %s (give --force to replace it)", ErrKeyExists, path)
	}
	return nil
}
