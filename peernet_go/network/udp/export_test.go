package udp

// FragmentBytes builds datagram index of message id for the external
// tests: the fragment header, then data.
func FragmentBytes(id uint32, index, count int, data []byte, total int) []byte {
	return append(appendHeader(nil, id, index, count, total), data...)
}

// SealedFragmentBytes builds an authenticated datagram, as a sender with
// key and session makes it.
func SealedFragmentBytes(key []byte, session uint64, id uint32, index, count int, data []byte, total int) []byte {
	d := FragmentBytes(id, index, count, data, total)
	d[3] = FlagAuth
	return newAuthenticator(key).seal(d, session)
}
