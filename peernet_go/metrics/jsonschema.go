package metrics

import (
	"encoding/json"
	"fmt"
)

// JSONSchemaID names the schema JSONSchema returns.
const JSONSchemaID = "peernet.Iteration"

// JSONSchema returns the JSON Schema (draft 2020-12) of one records.jsonl
// object, as AppendJSON writes it: every column of the record schema with
// its unit, the four raw timestamps, and the optional log time, error and
// reply. Viewers that read JSON-encoded MCAP channels (Foxglove,
// PlotJuggler) take their field list from it.
func JSONSchema() []byte {
	props := map[string]any{}
	required := []string{}
	for i := range columns {
		c := &columns[i]
		p := map[string]any{}
		switch c.kind {
		case kindIteration:
			p["type"], p["minimum"] = "integer", 0
		case kindSeconds:
			p["type"] = "number"
		case kindCount:
			p["type"], p["minimum"] = "integer", 0
		case kindRate:
			p["type"], p["minimum"] = "number", 0
		case kindText:
			p["type"] = "string"
		case kindStatus:
			p["type"], p["enum"] = "string", statusNames[:]
		case kindBool:
			p["type"] = "boolean"
		}
		// A value the record may not know is null, or left out.
		if c.known != nil && !c.omit || c.kind == kindRate {
			p["type"] = []any{p["type"], "null"}
		}
		p["description"] = describe(c)
		props[c.name] = p
		if !c.omit {
			required = append(required, c.name)
		}
	}
	for i, what := range []string{"client send", "server receive", "server send", "client receive"} {
		name := fmt.Sprintf("t%d", i)
		props[name] = map[string]any{"type": "integer", "description": what + " time, Unix ns (0: not reached)"}
		required = append(required, name)
	}
	props["log-time"] = map[string]any{"type": "integer", "description": "recording time of the sample's source message, Unix ns (rosbag and topic sensors)"}
	props["error"] = map[string]any{"type": "string", "description": "why the iteration is not ok"}
	props["output-encoding"] = map[string]any{"type": "string", "description": "encoding of the server's reply (with --record-outputs)"}
	props["output"] = map[string]any{"description": "the server's reply: JSON when its encoding is json, a string when text, else base64"}
	props["output-base64"] = map[string]any{"type": "boolean", "description": "output is base64"}
	b, err := json.MarshalIndent(map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  JSONSchemaID,
		"title":                "one iteration of the peernet loop",
		"type":                 "object",
		"properties":           props,
		"required":             required,
		"additionalProperties": false,
	}, "", "  ")
	if err != nil {
		panic(err) // maps of strings, numbers and slices always marshal
	}
	return b
}

// describe says what a column holds, for the schema.
func describe(c *column) string {
	switch c.kind {
	case kindIteration:
		return "iteration number, from 0"
	case kindSeconds:
		return c.name + ", s"
	case kindCount:
		return c.name + ", " + c.what + "s"
	case kindRate:
		return c.name + ", bit/s"
	case kindStatus:
		return "outcome: ok, lost (no reply in time), error or missed (a slot of the schedule that could not be sent)"
	case kindBool:
		return "left out of the statistics (--warmup)"
	}
	return c.name
}
