package metrics_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/internal/golden"
	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// TestJSONSchemaGolden holds the schema of an iteration to the committed
// file, so that a change to the record schema is a visible change to what
// MCAP viewers see; -update accepts one.
func TestJSONSchemaGolden(t *testing.T) {
	got := metrics.JSONSchema()
	golden.Check(t, filepath.Join("testdata", "record.schema.json"), got)
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
