// Package minheap is a binary min-heap of any element type, ordered by a
// less function: what a k-way merge of sorted streams needs (the rosbag
// readers merge files, and blocks within a file, by log time).
//
//	h := minheap.New(func(a, b *source) bool { return a.head < b.head })
//	h.Push(s)
//	for h.Len() > 0 {
//		s := h.Top()
//		if !s.advance() { h.Pop() } else { h.FixTop() }
//	}
package minheap

// Heap is a min-heap. The zero value is not usable; call New.
type Heap[T any] struct {
	items []T
	less  func(a, b T) bool
}

// New returns an empty heap ordered by less.
func New[T any](less func(a, b T) bool) *Heap[T] { return &Heap[T]{less: less} }

// Len returns the number of elements.
func (h *Heap[T]) Len() int { return len(h.items) }

// Push adds x.
func (h *Heap[T]) Push(x T) {
	h.items = append(h.items, x)
	h.up(len(h.items) - 1)
}

// Top returns the least element without removing it. The heap must not be
// empty.
func (h *Heap[T]) Top() T { return h.items[0] }

// Pop removes and returns the least element. The heap must not be empty.
func (h *Heap[T]) Pop() T {
	top := h.items[0]
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	var zero T
	h.items[last] = zero
	h.items = h.items[:last]
	if last > 0 {
		h.down(0)
	}
	return top
}

// FixTop restores the order after the least element's key grew.
func (h *Heap[T]) FixTop() {
	if len(h.items) > 1 {
		h.down(0)
	}
}

// All returns the elements in no particular order; the slice is the heap's
// own, valid until the next change.
func (h *Heap[T]) All() []T { return h.items }

// Reset empties the heap.
func (h *Heap[T]) Reset() { clear(h.items); h.items = h.items[:0] }

func (h *Heap[T]) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !h.less(h.items[j], h.items[i]) {
			break
		}
		h.items[i], h.items[j] = h.items[j], h.items[i]
		j = i
	}
}

func (h *Heap[T]) down(i int) {
	n := len(h.items)
	for {
		j := 2*i + 1
		if j >= n {
			return
		}
		if k := j + 1; k < n && h.less(h.items[k], h.items[j]) {
			j = k
		}
		if !h.less(h.items[j], h.items[i]) {
			return
		}
		h.items[i], h.items[j] = h.items[j], h.items[i]
		i = j
	}
}
