package main

import (
	"fmt"
	"io"
)

func versionCmd(args []string, stdout, stderr io.Writer) error {
	fmt.Fprintf(stdout, "peernet %s\n", version)
	return nil
}
