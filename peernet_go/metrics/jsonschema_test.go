package metrics_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

var updateSchema = flag.Bool("update-schema", false, "rewrite testdata/record.schema.json")

// TestJSONSchemaGolden holds the schema of an iteration to the committed
// file, so that a change to the record schema is a visible change to what
// MCAP viewers see; run with -update-schema to accept one.
func TestJSONSchemaGolden(t *testing.T) {
	got := metrics.JSONSchema()
	path := filepath.Join("testdata", "record.schema.json")
	if *updateSchema {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("JSONSchema() differs from %s (go test -run JSONSchemaGolden -args -update-schema accepts it):\n%s", path, got)
	}
	var doc struct {
		Properties map[string]any `json:"properties"`
		Required   []string       `json:"required"`
	}
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range metrics.Columns() {
		if doc.Properties[c] == nil {
			t.Errorf("column %s is not in the schema", c)
		}
	}
}
