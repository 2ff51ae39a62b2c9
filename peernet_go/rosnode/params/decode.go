package params

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

var durationType = reflect.TypeFor[time.Duration]()

// Decode fills the struct out points to from p. A field takes the
// parameter its `param:"name"` tag names; a tagged struct field is a group
// whose fields take "name.field", and an embedded struct without a tag
// lends its fields to the outer struct. Fields whose parameter is not set keep
// their values, so out can hold the defaults. A parameter that no field
// takes, or a value of the wrong type, is an error naming the parameter.
//
// Conversions: string fields take strings, and numbers and booleans as
// written; integers take integers (and integral doubles); float64 takes
// integers and doubles; bool takes booleans; time.Duration takes seconds
// (a number) or a Go duration string ("250ms"); []string takes an array of
// strings or one comma-separated string; []float64 and []int take arrays
// of numbers.
func (p Params) Decode(out any) error {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("rosparams: Decode needs a pointer to a struct, got %T", out)
	}
	used := map[string]bool{}
	if err := p.decodeStruct(v.Elem(), "", used); err != nil {
		return err
	}
	var unknown []string
	for _, n := range p.Names() {
		if !used[n] {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("rosparams: unknown parameter %s (known: %s)", strings.Join(unknown, ", "), strings.Join(Known(out), ", "))
	}
	return nil
}

// Known returns the parameter names the struct out points to takes, in
// field order.
func Known(out any) []string {
	t := reflect.TypeOf(out)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for f := range t.Fields() {
			tag := f.Tag.Get("param")
			if tag == "" && f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type, prefix)
				continue
			}
			if tag == "" || tag == "-" {
				continue
			}
			if f.Type.Kind() == reflect.Struct && f.Type != durationType {
				walk(f.Type, prefix+tag+".")
				continue
			}
			names = append(names, prefix+tag)
		}
	}
	if t.Kind() == reflect.Struct {
		walk(t, "")
	}
	return names
}

func (p Params) decodeStruct(v reflect.Value, prefix string, used map[string]bool) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("param")
		if tag == "" && f.Anonymous && f.Type.Kind() == reflect.Struct && f.IsExported() {
			if err := p.decodeStruct(v.Field(i), prefix, used); err != nil {
				return err
			}
			continue
		}
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		name := prefix + tag
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			if err := p.decodeStruct(fv, name+".", used); err != nil {
				return err
			}
			continue
		}
		val, ok := p[name]
		if !ok {
			continue
		}
		used[name] = true
		if err := set(fv, val); err != nil {
			return fmt.Errorf("rosparams: parameter %s: %w", name, err)
		}
	}
	return nil
}

func set(fv reflect.Value, val any) error {
	if fv.Type() == durationType {
		d, err := toDuration(val)
		if err != nil {
			return err
		}
		fv.SetInt(int64(d))
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		switch x := val.(type) {
		case string:
			fv.SetString(x)
		case int, float64, bool:
			fv.SetString(fmt.Sprint(x))
		default:
			return fmt.Errorf("want a string, got %v", describe(val))
		}
	case reflect.Bool:
		b, ok := val.(bool)
		if !ok {
			return fmt.Errorf("want true or false, got %v", describe(val))
		}
		fv.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := toInt(val)
		if err != nil {
			return err
		}
		if fv.OverflowInt(n) {
			return fmt.Errorf("%d is out of range", n)
		}
		fv.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := toInt(val)
		if err != nil {
			return err
		}
		if n < 0 || fv.OverflowUint(uint64(n)) {
			return fmt.Errorf("%d is out of range", n)
		}
		fv.SetUint(uint64(n))
	case reflect.Float32, reflect.Float64:
		f, err := toFloat(val)
		if err != nil {
			return err
		}
		fv.SetFloat(f)
	case reflect.Slice:
		return setSlice(fv, val)
	default:
		return fmt.Errorf("field of type %v cannot take a parameter", fv.Type())
	}
	return nil
}

func setSlice(fv reflect.Value, val any) error {
	var elems []any
	switch x := val.(type) {
	case []any:
		elems = x
	case string:
		if fv.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("want an array of numbers, got %v", describe(val))
		}
		for s := range strings.SplitSeq(x, ",") {
			if s = strings.TrimSpace(s); s != "" {
				elems = append(elems, s)
			}
		}
	default:
		return fmt.Errorf("want an array, got %v", describe(val))
	}
	out := reflect.MakeSlice(fv.Type(), len(elems), len(elems))
	for i, e := range elems {
		if err := set(out.Index(i), e); err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
	}
	fv.Set(out)
	return nil
}

func toInt(val any) (int64, error) {
	switch x := val.(type) {
	case int:
		return int64(x), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return int64(x), nil
		}
	}
	return 0, fmt.Errorf("want an integer, got %v", describe(val))
}

func toFloat(val any) (float64, error) {
	switch x := val.(type) {
	case int:
		return float64(x), nil
	case float64:
		return x, nil
	}
	return 0, fmt.Errorf("want a number, got %v", describe(val))
}

func toDuration(val any) (time.Duration, error) {
	switch x := val.(type) {
	case string:
		d, err := time.ParseDuration(x)
		if err != nil {
			return 0, fmt.Errorf("want seconds or a duration such as \"250ms\", got %q", x)
		}
		return d, nil
	case int, float64:
		f, _ := toFloat(x)
		if math.IsNaN(f) || math.Abs(f) > math.MaxInt64/1e9 {
			return 0, fmt.Errorf("%v seconds is out of range", f)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("want seconds or a duration such as \"250ms\", got %v", describe(val))
}

func describe(val any) string {
	switch x := val.(type) {
	case string:
		return strconv.Quote(x)
	case []any:
		return "an array"
	}
	return fmt.Sprint(val)
}
