// Command stringer is a Go plugin used by the goplugin tests: it exports
// fmt.Stringer values in every form goplugin.As accepts, and some it
// rejects.
package main

import (
	"errors"
	"fmt"
)

type word string

func (w word) String() string { return string(w) }

type ptrWord struct{ s string }

func (p *ptrWord) String() string { return p.s }

// Value is an interface variable.
var Value fmt.Stringer = word("value")

// Struct is a variable whose pointer implements fmt.Stringer.
var Struct = ptrWord{s: "struct"}

// Ptr is a pointer variable.
var Ptr = &ptrWord{s: "ptr"}

// Nil is an interface variable left nil.
var Nil fmt.Stringer

// Number is a variable of the wrong type.
var Number = 42

// New is a constructor.
func New() fmt.Stringer { return word("new") }

// NewConcrete is a constructor of a concrete type.
func NewConcrete() *ptrWord { return &ptrWord{s: "concrete"} }

// NewErr is a constructor that fails.
func NewErr() (fmt.Stringer, error) { return nil, errors.New("no stringer today") }

// NewVar is a variable holding a constructor.
var NewVar = func() (fmt.Stringer, error) { return word("newvar"), nil }

// WithArg is a function of the wrong shape.
func WithArg(s string) fmt.Stringer { return word(s) }

func main() {}
