package udp

// FragmentBytes builds datagram index of message id for the external
// tests: the fragment header, then data.
func FragmentBytes(id uint32, index, count int, data []byte, total int) []byte {
	return append(appendHeader(nil, id, index, count, total), data...)
}
