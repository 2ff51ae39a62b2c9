package minheap_test

import (
	"container/heap"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/peernet/peernet_go/peernet_go/internal/minheap"
)

// refHeap is container/heap's min-heap of ints, the reference.
type refHeap []int

func (h refHeap) Len() int           { return len(h) }
func (h refHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h refHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *refHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *refHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// TestAgainstContainerHeap runs random pushes, pops and grown tops on both.
func TestAgainstContainerHeap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := minheap.New(func(a, b *int) bool { return *a < *b })
		ref := &refHeap{}
		for _, op := range rapid.SliceOf(rapid.IntRange(0, 2)).Draw(t, "ops") {
			switch {
			case op == 0 || h.Len() == 0:
				v := rapid.IntRange(-50, 50).Draw(t, "v")
				h.Push(&v)
				heap.Push(ref, v)
			case op == 1:
				if got, want := *h.Pop(), heap.Pop(ref).(int); got != want {
					t.Fatalf("Pop = %d, want %d", got, want)
				}
			default: // the top's key grows
				d := rapid.IntRange(0, 30).Draw(t, "d")
				*h.Top() += d
				h.FixTop()
				(*ref)[0] += d
				heap.Fix(ref, 0)
			}
			if h.Len() != ref.Len() || (h.Len() > 0 && *h.Top() != (*ref)[0]) {
				t.Fatalf("heap and reference disagree")
			}
		}
		var got []int
		for h.Len() > 0 {
			got = append(got, *h.Pop())
		}
		if !slices.IsSorted(got) {
			t.Fatalf("popped out of order: %v", got)
		}
	})
}
