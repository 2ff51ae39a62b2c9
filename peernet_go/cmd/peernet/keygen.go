package main

import (
	"fmt"
	"io"

	"github.com/peernet/peernet_go/peernet_go/network/udp"
	"github.com/peernet/peernet_go/peernet_go/network/zmq"
)

const keygenUsage = `keygen [--force] NAME | keygen --psk [--force] FILE

Writes keys for the network YAML. Options come before NAME or FILE.

  keygen NAME         a CURVE key pair for zmq-tcp: NAME.key, the secret
                      key (mode 0600), and NAME.pub, the public key (0644).
                      The server's pair goes in zmq.curve.server_secret_key
                      and server_public_key, a client's secret key in
                      client_secret_key, and every client's .pub in the
                      server's client_public_keys.
  keygen --psk FILE   a random pre-shared key for udp (mode 0600), for
                      udp.key_file on both ends.

Existing files are never replaced without --force.

Examples:
  peernet keygen keys/cloud
  peernet keygen keys/edge
  peernet keygen --psk keys/udp.key`

// keygenCmd writes a CURVE key pair or a pre-shared key.
func keygenCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keygen", keygenUsage, stderr)
	psk := fs.Bool("psk", false, "write a udp pre-shared key to FILE instead of a CURVE key pair")
	force := fs.Bool("force", false, "replace existing files")
	if err := parseN(fs, args, 1, "one NAME (or FILE with --psk)"); err != nil {
		return err
	}
	target := fs.Arg(0)
	if *psk {
		key, err := udp.NewKey()
		if err != nil {
			return err
		}
		if err := udp.WriteKey(target, key, *force); err != nil {
			return fmt.Errorf("keygen: %w", err)
		}
		fmt.Fprintf(stdout, "pre-shared key written to %s (mode 0600); copy it to both ends and set udp.key_file\n", target)
		return nil
	}
	kp, err := zmq.NewKeypair()
	if err != nil {
		return err
	}
	secret, public, err := zmq.WriteKeypair(target, kp, *force)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Fprintf(stdout, "secret key written to %s (mode 0600), public key %s to %s\n", secret, kp.Public, public)
	return nil
}
