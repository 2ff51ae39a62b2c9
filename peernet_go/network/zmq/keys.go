package zmq

import (
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/peernet/peernet_go/peernet_go/network"
)

// CURVE keys. ZeroMQ's CURVE mechanism (RFC 26, CurveZMQ) authenticates
// and encrypts a connection with Curve25519 keys, written as Z85 text: 40
// characters for 32 bytes. A key file holds one key on its one line that
// is not blank or a "#" comment; an allow-list file may hold several
// public keys, one per line. `peernet keygen NAME` writes NAME.key (the
// secret key, mode 0600) and NAME.pub (the public key, mode 0644):
//
//	# peernet CURVE public key (Z85) of cloud
//	rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
const (
	// KeyLen is the length of a CURVE key in bytes.
	KeyLen = 32
	// KeyTextLen is the length of a CURVE key in Z85 characters.
	KeyTextLen = 40
	// maxAllowed bounds the keys an allow-list may hold.
	maxAllowed = 100_000
)

// Errors of the key readers; test with errors.Is.
var (
	// ErrKey reports text that is not a Z85 CURVE key.
	ErrKey = errors.New("zmq: not a CURVE key (40 Z85 characters)")
)

// z85Chars is the Z85 alphabet (ZeroMQ RFC 32).
const z85Chars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

// z85Value maps a character to its Z85 value plus one; 0 marks a
// character outside the alphabet.
var z85Value = func() (v [256]byte) {
	for i := range len(z85Chars) {
		v[z85Chars[i]] = byte(i + 1)
	}
	return v
}()

// z85Encode returns the Z85 text of b, whose length is a multiple of 4.
func z85Encode(b []byte) string {
	out := make([]byte, 0, len(b)/4*5)
	for i := 0; i+4 <= len(b); i += 4 {
		v := uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
		var chunk [5]byte
		for j := 4; j >= 0; j-- {
			chunk[j] = z85Chars[v%85]
			v /= 85
		}
		out = append(out, chunk[:]...)
	}
	return string(out)
}

// z85Decode appends the bytes of Z85 text s to dst. s must be a multiple
// of 5 characters of the alphabet, each group no more than 2³²−1.
func z85Decode(dst []byte, s string) ([]byte, error) {
	if len(s)%5 != 0 {
		return dst, fmt.Errorf("%d characters, not a multiple of 5", len(s))
	}
	for i := 0; i < len(s); i += 5 {
		var v uint64
		for j := range 5 {
			c := z85Value[s[i+j]]
			if c == 0 {
				return dst, fmt.Errorf("character %d (%q) is not in the Z85 alphabet", i+j+1, s[i+j])
			}
			v = v*85 + uint64(c-1)
		}
		if v > 0xffffffff {
			return dst, fmt.Errorf("characters %d to %d encode more than 32 bits", i+1, i+5)
		}
		dst = append(dst, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return dst, nil
}

// ParseKey checks that s is a CURVE key in Z85 and returns its 32 bytes.
func ParseKey(s string) ([KeyLen]byte, error) {
	var k [KeyLen]byte
	if len(s) != KeyTextLen {
		return k, fmt.Errorf("%w: %d characters", ErrKey, len(s))
	}
	b, err := z85Decode(k[:0], s)
	if err != nil {
		return k, fmt.Errorf("%w: %w", ErrKey, err)
	}
	copy(k[:], b)
	return k, nil
}

// isKeyText reports whether s is written as a key rather than as the
// path of a key file: 40 characters that decode as Z85. (A file whose
// name would look like that is written as "./NAME".)
func isKeyText(s string) bool {
	_, err := ParseKey(s)
	return err == nil
}

// Keypair is a CURVE key pair in Z85.
type Keypair struct {
	Public, Secret string
}

// NewKeypair returns a fresh key pair from crypto/rand. It needs neither
// cgo nor libzmq: CURVE keys are X25519 keys.
func NewKeypair() (Keypair, error) {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return Keypair{}, fmt.Errorf("zmq: new CURVE key pair: %w", err)
	}
	return Keypair{Public: z85Encode(k.PublicKey().Bytes()), Secret: z85Encode(k.Bytes())}, nil
}

// PublicKey returns the public key of the secret key secret, both Z85.
func PublicKey(secret string) (string, error) {
	s, err := ParseKey(secret)
	if err != nil {
		return "", err
	}
	k, err := ecdh.X25519().NewPrivateKey(s[:])
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrKey, err)
	}
	return z85Encode(k.PublicKey().Bytes()), nil
}

// parseKeyLines returns the keys of a key file's key lines, each checked.
// With one set, the file must hold exactly one key.
func parseKeyLines(lines []network.KeyLine, one bool) ([]string, error) {
	switch {
	case len(lines) == 0:
		return nil, errors.New("no key in it")
	case one && len(lines) > 1:
		return nil, fmt.Errorf("line %d: a second key; this file holds one", lines[1].Line)
	case len(lines) > maxAllowed:
		return nil, fmt.Errorf("%d keys, more than %d", len(lines), maxAllowed)
	}
	keys := make([]string, len(lines))
	for i, l := range lines {
		if _, err := ParseKey(l.Text); err != nil {
			return nil, fmt.Errorf("line %d: %w", l.Line, err)
		}
		keys[i] = l.Text
	}
	return keys, nil
}

// loadKeys resolves a key option: the key itself, or the path of a file
// of keys (one, with one set). A secret's file may not be readable by
// other users. Errors name the option.
func loadKeys(option, value string, one, secret bool) ([]string, error) {
	if isKeyText(value) {
		return []string{value}, nil
	}
	lines, err := network.ReadKeyFile(value, secret)
	if err != nil {
		return nil, fmt.Errorf("zmq: curve: %s: %w", option, err)
	}
	keys, err := parseKeyLines(lines, one)
	if err != nil {
		return nil, fmt.Errorf("zmq: curve: %s: %s: %w", option, value, err)
	}
	return keys, nil
}

// FormatKeyFile returns the text of a key file holding key, under a
// comment that says what it is.
func FormatKeyFile(comment, key string) []byte {
	return []byte("# " + comment + "\n" + key + "\n")
}

// WriteKeypair writes kp as base+".key", the secret key (mode 0600), and
// base+".pub", the public key (mode 0644), and returns their paths. It
// refuses, with network.ErrKeyExists, to replace either file unless force
// is set; then it writes nothing.
func WriteKeypair(base string, kp Keypair, force bool) (secretFile, publicFile string, err error) {
	secretFile, publicFile = base+".key", base+".pub"
	name := filepath.Base(base)
	if !force {
		for _, p := range []string{secretFile, publicFile} {
			if err := network.CheckNoFile(p); err != nil {
				return "", "", err
			}
		}
	}
	if err := network.WriteKeyFile(secretFile, FormatKeyFile("peernet CURVE secret key (Z85) of "+name+"; keep it private", kp.Secret), 0o600, true); err != nil {
		return "", "", err
	}
	if err := network.WriteKeyFile(publicFile, FormatKeyFile("peernet CURVE public key (Z85) of "+name, kp.Public), 0o644, true); err != nil {
		return "", "", err
	}
	return secretFile, publicFile, nil
}
