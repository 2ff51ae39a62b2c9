package metrics

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Kind is what a timing-tree node measures.
type Kind uint8

// Node kinds, after PEERNet's Container, Timer, Value and
// TokensPerSecondMeter.
const (
	// KindContainer has no metric of its own, only children.
	KindContainer Kind = iota
	// KindTimer measures the seconds from Start to End (monotonic clock).
	KindTimer
	// KindValue stores the number given to EndWith.
	KindValue
	// KindRate measures a count per second: the count given to EndWith
	// divided by the seconds since Start.
	KindRate
)

var kindNames = [...]string{"container", "timer", "value", "rate"}

// String returns "container", "timer", "value" or "rate".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// ErrNoSection is returned when no node has the name asked for; test with
// errors.Is.
var ErrNoSection = errors.New("metrics: no such section")

// AlreadyRegisteredError is returned when a node already has a child of the
// name being added.
type AlreadyRegisteredError struct {
	// Parent is the name of the node the child was added to.
	Parent string
	// Existing is the child already there.
	Existing *Node
}

// Error implements error.
func (e *AlreadyRegisteredError) Error() string {
	return fmt.Sprintf("metrics: section %q already exists in %q", e.Existing.name, e.Parent)
}

// Node is one named section of a timing tree: the Go form of PEERNet's
// MetricLogger. A node is a container, a timer, a value or a rate (see
// Kind), and may have children of any kind; sibling names are unique.
//
// A Node is not safe for concurrent use; give each goroutine its own subtree
// and Insert it afterwards.
type Node struct {
	name     string
	kind     Kind
	start    time.Time
	metric   float64
	ended    bool
	children []*Node
}

// NewNode returns a root node of the given kind whose collection has
// started (timers and rates count from now).
func NewNode(name string, kind Kind) *Node {
	return &Node{name: name, kind: kind, start: time.Now()}
}

// Name returns the node's name.
func (n *Node) Name() string { return n.name }

// Kind returns what the node measures.
func (n *Node) Kind() Kind { return n.kind }

// Children returns the node's children in the order they were added. The
// slice is a copy; the nodes are not.
func (n *Node) Children() []*Node { return append([]*Node(nil), n.children...) }

// Child returns the direct child called name, or nil.
func (n *Node) Child(name string) *Node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// checkName rejects names the CSV layout cannot carry: empty names and names
// with '_' (it joins nested names) or line breaks.
func checkName(name string) error {
	if name == "" {
		return errors.New("metrics: empty section name")
	}
	if strings.ContainsAny(name, "_\r\n") {
		return fmt.Errorf("metrics: section name %q: '_' and line breaks are reserved", name)
	}
	return nil
}

// Section adds a child of the given kind, with its collection started, and
// returns it (PEERNet's log_section). A sibling of the same name is an
// *AlreadyRegisteredError; an empty name or one holding '_' is an error too,
// because WriteCSV joins nested names with '_'.
func (n *Node) Section(name string, kind Kind) (*Node, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if c := n.Child(name); c != nil {
		return nil, &AlreadyRegisteredError{Parent: n.name, Existing: c}
	}
	c := NewNode(name, kind)
	n.children = append(n.children, c)
	return c, nil
}

// Time starts the timer child called name, adding it if there is none, and
// returns the function that ends it, for use with defer:
//
//	defer node.Time("upload")()
//
// The returned function reports an *AlreadyRegisteredError when a child of
// that name exists but is not a timer (the timer is not started then), or the
// error for an invalid name.
func (n *Node) Time(name string) func() error {
	c := n.Child(name)
	switch {
	case c == nil:
		var err error
		if c, err = n.Section(name, KindTimer); err != nil {
			return func() error { return err }
		}
	case c.kind != KindTimer:
		err := &AlreadyRegisteredError{Parent: n.name, Existing: c}
		return func() error { return err }
	default:
		c.Start()
	}
	return func() error { c.End(); return nil }
}

// Start (re)starts the node's collection (PEERNet's start_collection): the
// metric is cleared and timers and rates count from now.
func (n *Node) Start() {
	n.start = time.Now()
	n.ended = false
	n.metric = 0
}

// End ends the node's collection (PEERNet's end_collection). A timer's metric
// becomes the seconds since Start; a value keeps the number last given to
// EndWith; a rate with no count is 0 per second. A container has no metric.
func (n *Node) End() {
	switch n.kind {
	case KindTimer:
		n.metric, n.ended = time.Since(n.start).Seconds(), true
	case KindValue:
		n.ended = true
	case KindRate:
		n.EndWith(0)
	}
}

// EndWith ends the collection with a number: a value stores x, a rate
// becomes x divided by the seconds since Start. Timers ignore x and end as
// End does; containers ignore it.
func (n *Node) EndWith(x float64) {
	switch n.kind {
	case KindTimer:
		n.End()
	case KindValue:
		n.metric, n.ended = x, true
	case KindRate:
		d := time.Since(n.start)
		if d <= 0 {
			d = 1
		}
		n.metric, n.ended = x/d.Seconds(), true
	}
}

// EndSub ends every node called name in n's subtree, n included (PEERNet's
// end_sub). It returns ErrNoSection when there is none.
func (n *Node) EndSub(name string) error {
	return n.endSub(name, func(c *Node) { c.End() })
}

// EndSubWith is EndSub with a number, as EndWith.
func (n *Node) EndSubWith(name string, x float64) error {
	return n.endSub(name, func(c *Node) { c.EndWith(x) })
}

func (n *Node) endSub(name string, end func(*Node)) error {
	found := false
	n.walk(0, func(c *Node, _ int) {
		if c.name == name {
			end(c)
			found = true
		}
	})
	if !found {
		return fmt.Errorf("%w: %q in %q", ErrNoSection, name, n.name)
	}
	return nil
}

// walk calls fn for n and every descendant, depth first, parents first.
func (n *Node) walk(depth int, fn func(*Node, int)) {
	fn(n, depth)
	for _, c := range n.children {
		c.walk(depth+1, fn)
	}
}

// Result returns the node's own metric: seconds for a timer, the value, or
// the rate per second. ok is false for containers and nodes not ended.
func (n *Node) Result() (metric float64, ok bool) {
	if n.kind == KindContainer || !n.ended {
		return 0, false
	}
	return n.metric, true
}

// Metric returns the metric of the direct child called name (PEERNet's
// get_metric); ok is false when there is no such child or it has no metric.
func (n *Node) Metric(name string) (metric float64, ok bool) {
	c := n.Child(name)
	if c == nil {
		return 0, false
	}
	return c.Result()
}

// CopyFrom makes n a deep copy of other: name, kind, timing, metric and
// children (PEERNet's copy_from). Later changes to either tree do not affect
// the other.
func (n *Node) CopyFrom(other *Node) {
	c := other.clone()
	*n = *c
}

func (n *Node) clone() *Node {
	c := *n
	c.children = make([]*Node, len(n.children))
	for i, ch := range n.children {
		c.children[i] = ch.clone()
	}
	return &c
}

// Insert adds child, with its subtree, as the last child of n (PEERNet's
// insert). It fails with *AlreadyRegisteredError when n has a child of the
// same name, and with an error when n is child itself or lies in child's
// subtree (the tree would loop).
func (n *Node) Insert(child *Node) error {
	if child == nil {
		return errors.New("metrics: insert of a nil node")
	}
	if err := checkName(child.name); err != nil {
		return err
	}
	if c := n.Child(child.name); c != nil {
		return &AlreadyRegisteredError{Parent: n.name, Existing: c}
	}
	loop := false
	child.walk(0, func(c *Node, _ int) { loop = loop || c == n })
	if loop {
		return fmt.Errorf("metrics: inserting %q into %q would make a loop", child.name, n.name)
	}
	n.children = append(n.children, child)
	return nil
}

// Entry is one node in the map view returned by Node.Map.
type Entry struct {
	// Kind is what the node measures.
	Kind Kind `json:"kind"`
	// Metric is the node's metric; meaningful only when Ended.
	Metric float64 `json:"metric"`
	// Ended says whether the node has a metric (never for containers).
	Ended bool `json:"ended"`
	// Children maps each child's name to its entry.
	Children map[string]Entry `json:"children,omitempty"`
}

// Map returns the tree as nested maps, keyed by name, with n's name the only
// top-level key (PEERNet's asdict).
func (n *Node) Map() map[string]Entry {
	return map[string]Entry{n.name: n.entry()}
}

func (n *Node) entry() Entry {
	e := Entry{Kind: n.kind}
	e.Metric, e.Ended = n.Result()
	if len(n.children) > 0 {
		e.Children = make(map[string]Entry, len(n.children))
		for _, c := range n.children {
			e.Children[c.name] = c.entry()
		}
	}
	return e
}

var metricLabels = [...]string{"", "seconds", "value", "per second"}

// WriteText writes the tree as indented text, one node a line, four spaces
// per level (PEERNet's save_txt):
//
//	root
//	    upload --> seconds: 0.0012
//	    frames --> value: 3.0000
//	    decode --> Not Ended
func (n *Node) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	n.walk(0, func(c *Node, depth int) {
		bw.WriteString(strings.Repeat("    ", depth))
		bw.WriteString(c.name)
		switch {
		case c.kind == KindContainer:
		case !c.ended:
			bw.WriteString(" --> Not Ended")
		default:
			fmt.Fprintf(bw, " --> %s: %.4f", metricLabels[c.kind], c.metric)
		}
		bw.WriteByte('\n')
	})
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("metrics: writing tree %q: %w", n.name, err)
	}
	return nil
}

// String returns the text WriteText writes.
func (n *Node) String() string {
	var b strings.Builder
	_ = n.WriteText(&b)
	return b.String()
}

// WriteCSV writes the tree as a table, as PEERNet's to_csv does: one row per
// node at indexDepth (the root is depth 0; PEERNet's default is 1), numbered
// from 0 in an "iteration" column, and one column per node below it, named
// by the path from the row's node joined with '_'. A row node that is not a
// container gets a "val" column, and so does an inner node below it
// ("path_val"). When any column name is nested, the header has one line per
// level (the parts of the name split at '_', blank where a name is shorter)
// then a line holding "iteration", which is the layout pandas writes for
// hierarchical columns and reads back with read_csv(header=[0, 1],
// index_col=0). Metrics are written in shortest form; a node that has not
// ended leaves its cell empty, as does a row without that column.
func (n *Node) WriteCSV(w io.Writer, indexDepth int) error {
	if indexDepth < 0 {
		return fmt.Errorf("metrics: WriteCSV index depth %d: must be ≥ 0", indexDepth)
	}
	var t csvTable
	t.colIdx = map[string]int{}
	n.tableWalk(&t, 0, indexDepth, "")

	bw := bufio.NewWriter(w)
	levels := 1
	split := make([][]string, len(t.cols))
	for i, c := range t.cols {
		split[i] = strings.Split(c, "_")
		levels = max(levels, len(split[i]))
	}
	if levels == 1 {
		bw.WriteString("iteration")
		for _, c := range t.cols {
			bw.WriteByte(',')
			bw.WriteString(c)
		}
		bw.WriteByte('\n')
	} else {
		for l := range levels {
			for _, parts := range split {
				bw.WriteByte(',')
				if l < len(parts) {
					bw.WriteString(parts[l])
				}
			}
			bw.WriteByte('\n')
		}
		bw.WriteString("iteration")
		bw.WriteString(strings.Repeat(",", len(t.cols)))
		bw.WriteByte('\n')
	}
	for i, row := range t.rows {
		bw.WriteString(strconv.Itoa(i))
		for j := range t.cols {
			bw.WriteByte(',')
			if j < len(row) {
				bw.WriteString(row[j])
			}
		}
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("metrics: writing tree %q as CSV: %w", n.name, err)
	}
	return nil
}

type csvTable struct {
	cols   []string
	colIdx map[string]int
	rows   [][]string
}

func (t *csvTable) set(col string, n *Node) {
	i, ok := t.colIdx[col]
	if !ok {
		i = len(t.cols)
		t.cols = append(t.cols, col)
		t.colIdx[col] = i
	}
	row := &t.rows[len(t.rows)-1]
	for len(*row) <= i {
		*row = append(*row, "")
	}
	if v, ok := n.Result(); ok {
		(*row)[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
}

func (n *Node) tableWalk(t *csvTable, depth, indexDepth int, path string) {
	switch {
	case depth < indexDepth:
		for _, c := range n.children {
			c.tableWalk(t, depth+1, indexDepth, "")
		}
	case depth == indexDepth:
		t.rows = append(t.rows, nil)
		if n.kind != KindContainer {
			t.set("val", n)
		}
		for _, c := range n.children {
			c.tableWalk(t, depth+1, indexDepth, "")
		}
	default:
		p := n.name
		if path != "" {
			p = path + "_" + n.name
		}
		if len(n.children) == 0 {
			t.set(p, n)
			return
		}
		if n.kind != KindContainer {
			t.set(p+"_val", n)
		}
		for _, c := range n.children {
			c.tableWalk(t, depth+1, indexDepth, p)
		}
	}
}
