package metrics

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// decodeRecordJSON reads one records.jsonl object into r through the record
// schema. "iteration" and "status" are required; other missing or null
// fields stay zero, unknown keys are skipped. Seconds may also be written
// as JSON strings holding a number. It reads in one pass over b, without
// reflection: reports read millions of lines.
func decodeRecordJSON(b []byte, r *Record) error {
	out := Record{}
	var haveIteration, haveStatus, outputBase64 bool
	var output []byte
	d := jsonScanner{b: b}
	if err := d.object(func(key []byte, val []byte) error {
		null := string(val) == "null"
		if k := columnIndexBytes(key); k >= 0 {
			c := &columns[k]
			switch k {
			case colIteration:
				haveIteration = !null
			case colStatus:
				haveStatus = !null
			}
			if null {
				return nil
			}
			s, err := c.jsonText(val)
			if err == nil && s == "" && c.kind != kindText {
				err = fmt.Errorf("empty value")
			}
			switch {
			case err != nil:
			case c.kind == kindText: // JSON keeps line breaks
				*c.text(&out) = s
			case s != "":
				err = c.set(&out, s)
			}
			if err != nil && k == colIteration {
				return errBadIteration
			}
			if err != nil {
				return fmt.Errorf("metrics: record %q: %w", c.name, err)
			}
			return nil
		}
		var err error
		switch string(key) {
		case "t0", "t1", "t2", "t3", "log-time":
			var n int64
			if !null {
				if n, err = strconv.ParseInt(string(val), 10, 64); err != nil {
					return fmt.Errorf("%q: invalid integer %.40q", key, val)
				}
			}
			switch string(key) {
			case "t0":
				out.T0 = n
			case "t1":
				out.T1 = n
			case "t2":
				out.T2 = n
			case "t3":
				out.T3 = n
			default:
				out.LogTime = n
			}
		case "error":
			out.Err, err = jsonString(val, null)
		case "output-encoding":
			out.OutputEncoding, err = jsonString(val, null)
		case "output-base64":
			outputBase64 = string(val) == "true"
			if !null && !outputBase64 && string(val) != "false" {
				err = fmt.Errorf("not a bool: %.40q", val)
			}
		case "output":
			if !null {
				output = val
			} else {
				output = nil
			}
		}
		if err != nil {
			return fmt.Errorf("metrics: record %q: %w", key, err)
		}
		return nil
	}); err != nil {
		if errors.Is(err, errJSONSyntax) {
			return fmt.Errorf("metrics: record: %w", err)
		}
		return err
	}
	if !haveIteration {
		return errBadIteration
	}
	if !haveStatus {
		return errors.New(`metrics: record: missing "status"`)
	}
	if output != nil {
		switch {
		case outputBase64:
			s, err := jsonString(output, false)
			if err == nil {
				out.Output, err = base64.StdEncoding.DecodeString(s)
			}
			if err != nil {
				return fmt.Errorf(`metrics: record "output": %w`, err)
			}
		case out.OutputEncoding == "json":
			var c bytes.Buffer
			if err := json.Compact(&c, output); err != nil {
				return fmt.Errorf(`metrics: record "output": %w`, err)
			}
			out.Output = c.Bytes()
		default:
			s, err := jsonString(output, false)
			if err != nil {
				return fmt.Errorf(`metrics: record "output": %w`, err)
			}
			out.Output = []byte(s)
		}
	} else {
		out.OutputEncoding = ""
	}
	*r = out
	return nil
}

// columnIndexBytes is columnIndex for a key that has not been copied.
func columnIndexBytes(key []byte) int {
	for i := range columns {
		if columns[i].name == string(key) {
			return i
		}
	}
	return -1
}

// jsonText returns the text of a column's JSON value as appendValue wrote
// it: numbers and bools as they are, strings unquoted (numbers may come
// quoted).
func (c *column) jsonText(val []byte) (string, error) {
	if len(val) > 0 && val[0] == '"' {
		return jsonString(val, false)
	}
	switch c.kind {
	case kindText, kindStatus:
		return "", fmt.Errorf("not a string: %.40q", val)
	case kindBool:
		if s := string(val); s != "true" && s != "false" {
			return "", fmt.Errorf("not a bool: %.40q", val)
		}
	case kindIteration, kindCount:
		if bytes.ContainsAny(val, ".eE") { // parseCount accepts "767.0" only as a string
			if _, err := strconv.ParseFloat(string(val), 64); err != nil {
				return "", fmt.Errorf("not a number: %.40q", val)
			}
		}
	}
	if !validNumberOrBool(val) {
		return "", fmt.Errorf("not a JSON value: %.40q", val)
	}
	return string(val), nil
}

// validNumberOrBool reports whether b is a JSON number, true or false.
func validNumberOrBool(b []byte) bool {
	switch string(b) {
	case "true", "false":
		return true
	}
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	start := i
	if n := digits(); n == 0 || (n > 1 && b[start] == '0') {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// jsonString decodes a JSON string value; null reads as "".
func jsonString(val []byte, null bool) (string, error) {
	if null {
		return "", nil
	}
	if len(val) < 2 || val[0] != '"' {
		return "", fmt.Errorf("not a string: %.40q", val)
	}
	inner := val[1 : len(val)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		for _, c := range inner {
			if c < 0x20 {
				return "", fmt.Errorf("control character in string")
			}
		}
		return string(inner), nil
	}
	var s string
	if err := json.Unmarshal(val, &s); err != nil {
		return "", err
	}
	return s, nil
}

// jsonScanner walks one JSON object's top-level members.
type jsonScanner struct {
	b []byte
	i int
}

var (
	errJSONSyntax   = errors.New("invalid JSON")
	errBadIteration = errors.New(`metrics: record: missing or negative "iteration"`)
)

func (d *jsonScanner) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
}

// object calls member with each key (unescaped; keys with escapes are
// decoded) and the raw bytes of its value, and checks that nothing but
// space follows the object.
func (d *jsonScanner) object(member func(key, val []byte) error) error {
	d.space()
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return fmt.Errorf("%w: want an object", errJSONSyntax)
	}
	d.i++
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return d.end()
	}
	for {
		d.space()
		raw, err := d.str()
		if err != nil {
			return err
		}
		key := raw[1 : len(raw)-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			s, err := jsonString(raw, false)
			if err != nil {
				return fmt.Errorf("%w: bad key", errJSONSyntax)
			}
			key = []byte(s)
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return fmt.Errorf("%w: want ':' after key %.40q", errJSONSyntax, key)
		}
		d.i++
		d.space()
		val, err := d.value()
		if err != nil {
			return err
		}
		if err := member(key, val); err != nil {
			return err
		}
		d.space()
		if d.i >= len(d.b) {
			return fmt.Errorf("%w: unterminated object", errJSONSyntax)
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return d.end()
		default:
			return fmt.Errorf("%w: want ',' or '}' at offset %d", errJSONSyntax, d.i)
		}
	}
}

func (d *jsonScanner) end() error {
	d.space()
	if d.i != len(d.b) {
		return fmt.Errorf("%w: data after the object", errJSONSyntax)
	}
	return nil
}

// str scans a string and returns it with its quotes.
func (d *jsonScanner) str() ([]byte, error) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, fmt.Errorf("%w: want a string at offset %d", errJSONSyntax, d.i)
	}
	start := d.i
	for d.i++; d.i < len(d.b); d.i++ {
		switch d.b[d.i] {
		case '\\':
			d.i++
		case '"':
			d.i++
			return d.b[start:d.i], nil
		}
	}
	return nil, fmt.Errorf("%w: unterminated string", errJSONSyntax)
}

// value scans any value and returns its raw bytes. Objects and arrays are
// checked with json.Valid; literals are checked by whoever reads them.
func (d *jsonScanner) value() ([]byte, error) {
	if d.i >= len(d.b) {
		return nil, fmt.Errorf("%w: missing value", errJSONSyntax)
	}
	start := d.i
	switch d.b[d.i] {
	case '"':
		return d.str()
	case '{', '[':
		depth := 0
		for ; d.i < len(d.b); d.i++ {
			switch d.b[d.i] {
			case '"':
				if _, err := d.str(); err != nil {
					return nil, err
				}
				d.i--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					d.i++
					v := d.b[start:d.i]
					if !json.Valid(v) {
						return nil, fmt.Errorf("%w: bad nested value", errJSONSyntax)
					}
					return v, nil
				}
			}
		}
		return nil, fmt.Errorf("%w: unterminated value", errJSONSyntax)
	}
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			v := d.b[start:d.i]
			if string(v) != "null" && !validNumberOrBool(v) {
				return nil, fmt.Errorf("%w: bad value %.40q", errJSONSyntax, v)
			}
			return v, nil
		}
		d.i++
	}
	return nil, fmt.Errorf("%w: unterminated object", errJSONSyntax)
}
