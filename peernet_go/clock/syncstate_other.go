//go:build !linux

package clock

func kernelSyncState() string { return "" }
