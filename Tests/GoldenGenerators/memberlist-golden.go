// Generates the Go reference encodings used in Tests/GossipTests beyond shared/reference/memberlist-vectors.txt:
// an ackResp with a 40-byte payload, a pushPullHeader with larger ints, and compress/lzw outputs (length and
// CRC-32) for deterministic inputs that exercise the 12-bit table reset. Built offline from Debian packages:
//
//   apt-get install golang-go golang-github-hashicorp-go-msgpack-dev
//   mkdir -p /tmp/g/src/golden && cp memberlist-golden.go /tmp/g/src/golden/main.go && cd /tmp/g/src/golden
//   GO111MODULE=off GOPATH=/tmp/g:/usr/share/gocode GOPROXY=off GOFLAGS= go run .
//
// Not part of the Swift build.

package main

import (
	"bytes"
	"compress/lzw"
	"fmt"
	"hash/crc32"
	"io/ioutil"

	"github.com/hashicorp/go-msgpack/codec"
)

type ackResp struct {
	SeqNo   uint32
	Payload []byte
}
type pushPullHeader struct {
	Nodes        int
	UserStateLen int
	Join         bool
}
type pushNodeState struct {
	Name        string
	Addr        []byte
	Port        uint16
	Meta        []byte
	Incarnation uint32
	State       int
	Vsn         []uint8
}

func enc(v interface{}) []byte {
	var b bytes.Buffer
	h := codec.MsgpackHandle{}
	if err := codec.NewEncoder(&b, &h).Encode(v); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func gen(n int, alphabet uint64, seed uint64) []byte {
	x := seed
	out := make([]byte, n)
	for i := range out {
		x = x*6364136223846793005 + 1442695040888963407
		out[i] = byte((x >> 33) % alphabet)
	}
	return out
}

func lz(in []byte) []byte {
	var b bytes.Buffer
	w := lzw.NewWriter(&b, lzw.LSB, 8)
	if len(in) > 0 {
		w.Write(in)
	}
	w.Close()
	return b.Bytes()
}

func main() {
	fmt.Printf("ack40 %x\n", enc(&ackResp{SeqNo: 7, Payload: bytes.Repeat([]byte{0x41}, 40)}))
	fmt.Printf("pphdr200 %x\n", enc(&pushPullHeader{Nodes: 200, UserStateLen: 70000, Join: false}))
	fmt.Printf("pns %x\n", enc(&pushNodeState{Name: "n", Addr: []byte{}, Port: 0, Meta: nil, Incarnation: 4294967295, State: 3, Vsn: nil}))
	fmt.Printf("lzw-empty %x\n", lz(nil))
	fmt.Printf("lzw-a %x\n", lz([]byte("a")))
	cases := []struct {
		name     string
		n        int
		alphabet uint64
		seed     uint64
	}{{"ab", 30000, 2, 1}, {"abcd", 60000, 4, 2}, {"bytes", 20000, 256, 3}, {"same", 100000, 1, 4}, {"text16", 5000, 16, 5}}
	for _, c := range cases {
		in := gen(c.n, c.alphabet, c.seed)
		out := lz(in)
		fmt.Printf("lzwcase %s %d %d %d %d %08x\n", c.name, c.n, c.alphabet, c.seed, len(out), crc32.ChecksumIEEE(out))
		if c.name == "text16" {
			fmt.Printf("lzwhex text16 %x\n", out)
		}
	}
	// Does Go's reader ignore garbage after EOF?
	good := lz([]byte("TOBEORNOTTOBEORTOBEORNOT"))
	r := lzw.NewReader(bytes.NewReader(append(append([]byte{}, good...), 0xde, 0xad)), lzw.LSB, 8)
	got, err := ioutil.ReadAll(r)
	fmt.Printf("trailing: %q err=%v\n", got, err)
}
