package mcaplog

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// DirMetadata returns the metadata records of the results directory dir:
// "run" from run.yaml and "summary" from summary.json, each flattened (see
// Flatten); a file that is missing is left out.
func DirMetadata(dir string) ([]Metadata, error) {
	var out []Metadata
	for _, f := range []struct{ name, file string }{{MetadataRun, metrics.RunYAML}, {MetadataSummary, metrics.SummaryJSON}} {
		b, err := os.ReadFile(filepath.Join(dir, f.file))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("mcaplog: %w", err)
		}
		m, err := Flatten(b)
		if err != nil {
			return nil, fmt.Errorf("mcaplog: %s: %w", f.file, err)
		}
		out = append(out, Metadata{Name: f.name, Values: m})
	}
	return out, nil
}

// Flatten turns a YAML or JSON document into the string pairs of an MCAP
// metadata record: nested keys joined with dots, list items as key[i],
// null as "".
func Flatten(doc []byte) (map[string]string, error) {
	var v any
	if err := yaml.NewDecoder(bytes.NewReader(doc)).Decode(&v); err != nil {
		return nil, err
	}
	out := map[string]string{}
	flatten(out, "", v)
	return out, nil
}

func flatten(out map[string]string, key string, v any) {
	join := func(k string) string {
		if key == "" {
			return k
		}
		return key + "." + k
	}
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			flatten(out, join(k), v[k])
		}
	case []any:
		for i, e := range v {
			flatten(out, key+"["+strconv.Itoa(i)+"]", e)
		}
	case nil:
		out[key] = ""
	default:
		out[key] = fmt.Sprint(v)
	}
}
