package zmq

import (
	"bytes"
	"errors"
	"fmt"
)

// zapDomain is the ZAP domain of a CURVE server's ROUTER. The ZAP handler
// answers for it alone.
const zapDomain = "peernet"

// serverKeys is what a CURVE server needs: its secret key and the public
// keys it lets in, by their 32 bytes.
type serverKeys struct {
	secret  string
	allowed map[[KeyLen]byte]bool
}

// clientKeys is what a CURVE client needs, all Z85.
type clientKeys struct {
	serverPublic, public, secret string
}

// serverKeys reads the server's keys and allow-list, and checks that the
// secret key is the one server_public_key belongs to.
func (c *CurveOptions) serverKeys() (*serverKeys, error) {
	pub, err := c.serverPublic()
	if err != nil {
		return nil, err
	}
	if c.ServerSecretKey == "" {
		return nil, errors.New("zmq: curve: server_secret_key: missing (Listen needs the server's secret key; peernet keygen NAME writes NAME.key)")
	}
	secret, err := loadKeys("server_secret_key", c.ServerSecretKey, true, true)
	if err != nil {
		return nil, err
	}
	if derived, err := PublicKey(secret[0]); err != nil {
		return nil, fmt.Errorf("zmq: curve: server_secret_key: %w", err)
	} else if derived != pub {
		return nil, fmt.Errorf("zmq: curve: server_public_key %s does not belong to server_secret_key (whose public key is %s)", pub, derived)
	}
	if len(c.ClientPublicKeys) == 0 {
		return nil, errors.New("zmq: curve: client_public_keys: empty (list the public key of every client the server lets in, e.g. edge.pub)")
	}
	k := &serverKeys{secret: secret[0], allowed: map[[KeyLen]byte]bool{}}
	for i, v := range c.ClientPublicKeys {
		keys, err := loadKeys(fmt.Sprintf("client_public_keys[%d]", i), v, false, false)
		if err != nil {
			return nil, err
		}
		for _, s := range keys {
			raw, _ := ParseKey(s) // checked by loadKeys
			k.allowed[raw] = true
		}
	}
	return k, nil
}

// clientKeys reads the client's keys.
func (c *CurveOptions) clientKeys() (*clientKeys, error) {
	pub, err := c.serverPublic()
	if err != nil {
		return nil, err
	}
	if c.ClientSecretKey == "" {
		return nil, errors.New("zmq: curve: client_secret_key: missing (Dial needs this client's secret key; peernet keygen NAME writes NAME.key)")
	}
	secret, err := loadKeys("client_secret_key", c.ClientSecretKey, true, true)
	if err != nil {
		return nil, err
	}
	own, err := PublicKey(secret[0])
	if err != nil {
		return nil, fmt.Errorf("zmq: curve: client_secret_key: %w", err)
	}
	return &clientKeys{serverPublic: pub, public: own, secret: secret[0]}, nil
}

func (c *CurveOptions) serverPublic() (string, error) {
	keys, err := loadKeys("server_public_key", c.ServerPublicKey, true, false)
	if err != nil {
		return "", err
	}
	return keys[0], nil
}

// ZAP (ZeroMQ RFC 27) is how libzmq asks whether a peer may connect: a
// request of at least six frames — version "1.0", request id, domain,
// peer address, peer routing id, mechanism — then the mechanism's
// credentials (for CURVE the client's 32-byte public key), sent to the
// handler bound at inproc://zeromq.zap.01 in the socket's context, which
// answers version, request id, status code, status text, user id and
// metadata.
const (
	zapVersion = "1.0"
	// zapMaxFrame bounds each frame of a request (RFC 27's fields are
	// all short: a domain, an address, a routing id of at most 255
	// bytes, a key).
	zapMaxFrame = 1024
	// zapMaxFrames bounds the frames of a request.
	zapMaxFrames = 16
)

// ErrZAP reports a ZAP request that does not follow RFC 27.
var ErrZAP = errors.New("zmq: malformed ZAP request")

// zapRequest is a parsed ZAP request.
type zapRequest struct {
	version, id, domain, address, identity, mechanism string
	credentials                                       []string
}

// parseZAPRequest parses the frames of a ZAP request. It copies what it
// keeps, at most the frames' own bytes.
func parseZAPRequest(frames [][]byte) (zapRequest, error) {
	var r zapRequest
	if len(frames) < 6 || len(frames) > zapMaxFrames {
		return r, fmt.Errorf("%w: %d frames, want 6 to %d", ErrZAP, len(frames), zapMaxFrames)
	}
	for i, f := range frames {
		if len(f) > zapMaxFrame {
			return r, fmt.Errorf("%w: frame %d has %d bytes, more than %d", ErrZAP, i+1, len(f), zapMaxFrame)
		}
	}
	if !bytes.Equal(frames[0], []byte(zapVersion)) {
		return r, fmt.Errorf("%w: version %.20q, want %q", ErrZAP, frames[0], zapVersion)
	}
	r = zapRequest{
		version: zapVersion, id: string(frames[1]), domain: string(frames[2]),
		address: string(frames[3]), identity: string(frames[4]), mechanism: string(frames[5]),
	}
	for _, f := range frames[6:] {
		r.credentials = append(r.credentials, string(f))
	}
	switch r.mechanism {
	case "NULL":
		if len(r.credentials) != 0 {
			return r, fmt.Errorf("%w: NULL with %d credentials", ErrZAP, len(r.credentials))
		}
	case "CURVE":
		if len(r.credentials) != 1 || len(r.credentials[0]) != KeyLen {
			return r, fmt.Errorf("%w: CURVE credentials are one %d-byte key", ErrZAP, KeyLen)
		}
	case "PLAIN":
		if len(r.credentials) != 2 {
			return r, fmt.Errorf("%w: PLAIN credentials are a username and a password", ErrZAP)
		}
	default:
		return r, fmt.Errorf("%w: mechanism %.20q", ErrZAP, r.mechanism)
	}
	return r, nil
}

// frames returns the frames of r, as libzmq sends them.
func (r *zapRequest) frames() [][]byte {
	f := [][]byte{[]byte(r.version), []byte(r.id), []byte(r.domain), []byte(r.address), []byte(r.identity), []byte(r.mechanism)}
	for _, c := range r.credentials {
		f = append(f, []byte(c))
	}
	return f
}

// zapReply returns the frames of the answer to the request with id: the
// status code ("200", "400", "500"), its text and, for "200", the user id
// the connection's messages will carry.
func zapReply(id, code, text, userID string) []string {
	return []string{zapVersion, id, code, text, userID, ""}
}

// zapDecide answers request r for a server that lets in the keys of
// allowed: "200" for an allowed CURVE key of the peernet domain, and for
// NULL connections of other domains (the conn's own inproc sockets);
// "400" for anything else, with refused set when it is a client to count
// and report.
func zapDecide(r *zapRequest, allowed map[[KeyLen]byte]bool) (code, text, userID string, refused bool) {
	switch {
	case r.mechanism == "NULL" && r.domain != zapDomain:
		return "200", "OK", "", false
	case r.mechanism != "CURVE" || r.domain != zapDomain:
		return "400", "mechanism " + r.mechanism + " is not allowed", "", true
	}
	var k [KeyLen]byte
	copy(k[:], r.credentials[0])
	if !allowed[k] {
		return "400", "unknown client key", "", true
	}
	return "200", "OK", z85Encode(k[:]), false
}
