package goplugin

import (
	"debug/buildinfo"
	"fmt"
	"runtime"
	"strings"
)

// rebuildHint says how to rebuild a plugin so that this program can load it.
func rebuildHint() string {
	flags := ""
	if raceEnabled {
		flags = " -race"
	}
	return fmt.Sprintf("rebuild it with `go build%s -buildmode=plugin` using this program's toolchain (%s) and module versions", flags, runtime.Version())
}

// check reads the build information of the file at path and rejects what
// cannot be loaded before the dynamic loader sees it: loading a shared
// object that is not a Go plugin aborts the whole process.
func check(path string) error {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w (%w)", path, ErrNotPlugin, err)
	}
	return checkInfo(path, info)
}

// checkInfo compares a file's build information with this program's.
func checkInfo(path string, info *buildinfo.BuildInfo) error {
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if mode := settings["-buildmode"]; mode != "plugin" {
		if mode == "" {
			mode = "exe"
		}
		return fmt.Errorf("%s was built with -buildmode=%s: %w: build it with `go build -buildmode=plugin`", path, mode, ErrNotPlugin)
	}
	if info.GoVersion != runtime.Version() {
		return fmt.Errorf("%s was built with %s, this program with %s: %w: %s",
			path, info.GoVersion, runtime.Version(), ErrVersionMismatch, rebuildHint())
	}
	if race := settings["-race"] == "true"; race != raceEnabled {
		return fmt.Errorf("%s was built with -race=%t, this program with -race=%t: %w: %s",
			path, race, raceEnabled, ErrVersionMismatch, rebuildHint())
	}
	return nil
}

// translate turns the plugin package's errors into ones that say what to do.
func translate(path string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "different version of package"):
		pkg := msg[strings.LastIndex(msg, " ")+1:]
		return fmt.Errorf("%s was built with a different version of package %s: %w: %s", path, pkg, ErrVersionMismatch, rebuildHint())
	case strings.Contains(msg, "plugin already loaded"):
		return fmt.Errorf("%s: another plugin of the same package is already loaded; a process can load each plugin package once: %w", path, err)
	}
	return fmt.Errorf("%s: %w", path, err)
}
