// pion-peer: an interoperability peer built on pion/webrtc v3, with the command
// line shared by rtc-peer, aiortc-peer.py and pion-peer (see bench/README.md).
//
// SPDX-License-Identifier: GPL-3.0-or-later
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/transport/v2"
	"github.com/pion/transport/v2/stdnet"
	"github.com/pion/webrtc/v3"
	"golang.org/x/sys/unix"
)

const (
	dummyChannelID = 1000
	socketBuffer   = 4 * 1024 * 1024
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type options struct {
	role, localSDP, remoteSDP, stun, turn, opener, sendFile string
	binds                                                   stringList
	relayOnly, receive                                      bool
	sendBytes                                               int64
	chunk, highWater                                        int
	timeout                                                 float64
}

func bootMs() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0
	}
	return float64(ts.Sec)*1000 + float64(ts.Nsec)/1e6
}

// processStartMs reads the start time of this process (clock ticks since boot).
func processStartMs() float64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return bootMs()
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return bootMs()
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return bootMs()
	}
	ticks, err := strconv.ParseFloat(f[19], 64)
	if err != nil {
		return bootMs()
	}
	return ticks * 1000 / 100 // USER_HZ is 100 on Linux
}

// peakRssKib reads VmHWM, which starts afresh at exec (ru_maxrss keeps the
// peak of the process that forked us).
func peakRssKib() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmHWM:") {
				f := strings.Fields(line)
				if len(f) >= 2 {
					if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
						return v
					}
				}
			}
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		return ru.Maxrss
	}
	return 0
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "pion-peer: "+format+"\n", a...)
	os.Exit(1)
}

// bufferedNet raises the socket buffers of every UDP socket ICE opens: the
// default ones drop packets on loopback at full speed.
type bufferedNet struct {
	*stdnet.Net
}

type bufferSetter interface {
	SetReadBuffer(int) error
	SetWriteBuffer(int) error
}

func raise(c interface{}) {
	if b, ok := c.(bufferSetter); ok {
		_ = b.SetReadBuffer(socketBuffer)
		_ = b.SetWriteBuffer(socketBuffer)
	}
}

func (n bufferedNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err == nil {
		raise(c)
	}
	return c, err
}

func (n bufferedNet) ListenPacket(network, address string) (net.PacketConn, error) {
	c, err := n.Net.ListenPacket(network, address)
	if err == nil {
		raise(c)
	}
	return c, err
}

func parseTurn(uri string) (webrtc.ICEServer, error) {
	var s webrtc.ICEServer
	if !strings.HasPrefix(uri, "turn:") {
		return s, errors.New("--turn must start with turn:")
	}
	rest := strings.TrimPrefix(uri, "turn:")
	query := ""
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest, query = rest[:i], rest[i+1:]
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return s, errors.New("--turn needs USER:PASS@HOST:PORT")
	}
	cred, hostport := rest[:at], rest[at+1:]
	colon := strings.IndexByte(cred, ':')
	if colon < 0 {
		return s, errors.New("--turn needs USER:PASS@HOST:PORT")
	}
	user, err1 := url.PathUnescape(cred[:colon])
	pass, err2 := url.PathUnescape(cred[colon+1:])
	if err1 != nil || err2 != nil {
		return s, errors.New("--turn: bad percent-encoding")
	}
	transportName := "udp"
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return s, errors.New("--turn: bad query")
		}
		if t := q.Get("transport"); t != "" {
			transportName = t
		}
	}
	if transportName != "udp" && transportName != "tcp" {
		return s, errors.New("--turn transport must be udp or tcp")
	}
	s.URLs = []string{"turn:" + hostport + "?transport=" + transportName}
	s.Username = user
	s.Credential = pass
	s.CredentialType = webrtc.ICECredentialTypePassword
	return s, nil
}

func writeAtomic(path string, desc *webrtc.SessionDescription) error {
	b, err := json.Marshal(map[string]string{"type": desc.Type.String(), "sdp": desc.SDP})
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.tmp.%d", path, os.Getpid())
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

func readRemote(path, want string) (webrtc.SessionDescription, error) {
	var d struct {
		Type string `json:"type"`
		SDP  string `json:"sdp"`
	}
	for {
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		if err != nil {
			return webrtc.SessionDescription{}, err
		}
		if err = json.Unmarshal(b, &d); err != nil || d.SDP == "" {
			return webrtc.SessionDescription{}, fmt.Errorf("%s: not a session description", path)
		}
		if d.Type != want {
			return webrtc.SessionDescription{}, fmt.Errorf("%s: expected %s, got %q", path, want, d.Type)
		}
		return webrtc.SessionDescription{Type: webrtc.NewSDPType(want), SDP: d.SDP}, nil
	}
}

// xoshiro256** seeded through splitmix64: a fast deterministic byte source.
type prng struct{ s [4]uint64 }

func newPrng(seed uint64) *prng {
	p := &prng{}
	for i := range p.s {
		seed += 0x9e3779b97f4a7c15
		z := seed
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		p.s[i] = z ^ (z >> 31)
	}
	return p
}

func rotl(x uint64, k uint) uint64 { return (x << k) | (x >> (64 - k)) }

func (p *prng) fill(b []byte) {
	var tmp [8]byte
	for i := 0; i < len(b); i += 8 {
		r := rotl(p.s[1]*5, 7) * 9
		t := p.s[1] << 17
		p.s[2] ^= p.s[0]
		p.s[3] ^= p.s[1]
		p.s[1] ^= p.s[2]
		p.s[0] ^= p.s[3]
		p.s[2] ^= t
		p.s[3] = rotl(p.s[3], 45)
		if i+8 <= len(b) {
			binary.LittleEndian.PutUint64(b[i:], r)
		} else {
			binary.LittleEndian.PutUint64(tmp[:], r)
			copy(b[i:], tmp[:])
		}
	}
}

func parseOptions() *options {
	o := &options{}
	fs := flag.NewFlagSet("pion-peer", flag.ContinueOnError)
	fs.StringVar(&o.role, "role", "", "offer or answer")
	fs.StringVar(&o.localSDP, "local-sdp", "", "file our description is written to")
	fs.StringVar(&o.remoteSDP, "remote-sdp", "", "file the peer's description is read from")
	fs.Var(&o.binds, "bind", "local address ICE may use (repeatable)")
	fs.StringVar(&o.stun, "stun", "", "STUN server HOST:PORT")
	fs.StringVar(&o.turn, "turn", "", "TURN server turn:USER:PASS@HOST:PORT[?transport=tcp]")
	fs.BoolVar(&o.relayOnly, "relay-only", false, "use relayed candidates only")
	fs.StringVar(&o.opener, "opener", "", "self or peer: who creates the channel")
	fs.Int64Var(&o.sendBytes, "send-bytes", -1, "send N pseudo-random bytes")
	fs.StringVar(&o.sendFile, "send-file", "", "send this file")
	fs.BoolVar(&o.receive, "receive", false, "receive and hash")
	fs.IntVar(&o.chunk, "chunk", 65535, "message size")
	fs.IntVar(&o.highWater, "high-water", 1024*1024,
		"pause sending above this buffered amount, resume at a quarter of it")
	fs.Float64Var(&o.timeout, "timeout", 120, "seconds allowed for the whole run")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if fs.NArg() != 0 {
		fail("unexpected argument %q", fs.Arg(0))
	}
	if o.role != "offer" && o.role != "answer" {
		fail("--role must be offer or answer")
	}
	if o.localSDP == "" || o.remoteSDP == "" {
		fail("--local-sdp and --remote-sdp are required")
	}
	if o.opener == "" {
		if o.role == "offer" {
			o.opener = "self"
		} else {
			o.opener = "peer"
		}
	}
	if o.opener != "self" && o.opener != "peer" {
		fail("--opener must be self or peer")
	}
	modes := 0
	if o.sendBytes >= 0 {
		modes++
	}
	if o.sendFile != "" {
		modes++
	}
	if o.receive {
		modes++
	}
	if modes != 1 {
		fail("exactly one of --send-bytes, --send-file, --receive is required")
	}
	if o.chunk <= 0 || o.chunk > 65536 {
		fail("--chunk must be between 1 and 65536")
	}
	if o.highWater < 65536 || o.highWater > 256*1024*1024 {
		fail("--high-water must be between 65536 and 268435456")
	}
	if o.relayOnly && o.turn == "" {
		fail("--relay-only needs --turn")
	}
	return o
}

type result struct {
	Impl      string  `json:"impl"`
	Role      string  `json:"role"`
	Direction string  `json:"direction"`
	Bytes     int64   `json:"bytes"`
	Sha256    string  `json:"sha256"`
	SetupMs   float64 `json:"setup_ms"`
	TransferS float64 `json:"transfer_s"`
	Mbps      float64 `json:"mbps"`
	MaxRssKib int64   `json:"max_rss_kib"`
}

func main() {
	startMs := processStartMs()
	o := parseOptions()
	time.AfterFunc(time.Duration(o.timeout*float64(time.Second)), func() {
		fail("timed out after %g s", o.timeout)
	})

	se := webrtc.SettingEngine{}
	if n, err := stdnet.NewNet(); err == nil {
		se.SetNet(bufferedNet{n})
	}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if len(o.binds) > 0 {
		allowed := map[string]bool{}
		for _, b := range o.binds {
			ip := net.ParseIP(b)
			if ip == nil {
				fail("--bind %q is not an IP address", b)
			}
			allowed[ip.String()] = true
			if ip.IsLoopback() {
				se.SetIncludeLoopbackCandidate(true)
			}
		}
		se.SetIPFilter(func(ip net.IP) bool { return allowed[ip.String()] })
	}
	se.SetSCTPMaxReceiveBufferSize(4 * 1024 * 1024)

	cfg := webrtc.Configuration{ICEServers: []webrtc.ICEServer{}}
	if o.stun != "" {
		cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: []string{"stun:" + o.stun}})
	}
	if o.turn != "" {
		s, err := parseTurn(o.turn)
		if err != nil {
			fail("%v", err)
		}
		cfg.ICEServers = append(cfg.ICEServers, s)
	}
	if o.relayOnly {
		cfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}

	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		fail("peer connection: %v", err)
	}

	var once sync.Once
	channelCh := make(chan *webrtc.DataChannel, 1)
	openCh := make(chan float64, 1)
	closedCh := make(chan struct{})
	failedCh := make(chan string, 1)
	var rxHash = sha256.New()
	var rxBytes int64
	var rxMu sync.Mutex

	adopt := func(dc *webrtc.DataChannel) {
		once.Do(func() {
			channelCh <- dc
			dc.OnOpen(func() { openCh <- bootMs() })
			var closeOnce sync.Once
			dc.OnClose(func() { closeOnce.Do(func() { close(closedCh) }) })
			if o.receive {
				dc.OnMessage(func(m webrtc.DataChannelMessage) {
					rxMu.Lock()
					rxHash.Write(m.Data)
					rxBytes += int64(len(m.Data))
					rxMu.Unlock()
				})
			}
		})
	}
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		if dc.Label() == "data" {
			adopt(dc)
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed {
			select {
			case failedCh <- "connection failed":
			default:
			}
		}
	})
	ordered := true
	if o.role == "offer" {
		if o.opener == "self" {
			dc, err := pc.CreateDataChannel("data", &webrtc.DataChannelInit{Ordered: &ordered})
			if err != nil {
				fail("data channel: %v", err)
			}
			adopt(dc)
		} else {
			// An offer needs an application m-section: a pre-negotiated
			// channel that carries nothing provides it.
			neg := true
			id := uint16(dummyChannelID)
			if _, err := pc.CreateDataChannel("sctp", &webrtc.DataChannelInit{Negotiated: &neg, ID: &id}); err != nil {
				fail("data channel: %v", err)
			}
		}
		offer, err := pc.CreateOffer(nil)
		if err != nil {
			fail("offer: %v", err)
		}
		gathered := webrtc.GatheringCompletePromise(pc)
		if err = pc.SetLocalDescription(offer); err != nil {
			fail("local description: %v", err)
		}
		<-gathered
		if err = writeAtomic(o.localSDP, pc.LocalDescription()); err != nil {
			fail("%s: %v", o.localSDP, err)
		}
		answer, err := readRemote(o.remoteSDP, "answer")
		if err != nil {
			fail("%v", err)
		}
		if err = pc.SetRemoteDescription(answer); err != nil {
			fail("remote description: %v", err)
		}
	} else {
		offer, err := readRemote(o.remoteSDP, "offer")
		if err != nil {
			fail("%v", err)
		}
		if err = pc.SetRemoteDescription(offer); err != nil {
			fail("remote description: %v", err)
		}
		answer, err := pc.CreateAnswer(nil)
		if err != nil {
			fail("answer: %v", err)
		}
		gathered := webrtc.GatheringCompletePromise(pc)
		if err = pc.SetLocalDescription(answer); err != nil {
			fail("local description: %v", err)
		}
		<-gathered
		if err = writeAtomic(o.localSDP, pc.LocalDescription()); err != nil {
			fail("%s: %v", o.localSDP, err)
		}
		if o.opener == "self" {
			dc, err := pc.CreateDataChannel("data", &webrtc.DataChannelInit{Ordered: &ordered})
			if err != nil {
				fail("data channel: %v", err)
			}
			adopt(dc)
		}
	}

	var openMs float64
	var dc *webrtc.DataChannel
	select {
	case openMs = <-openCh:
		dc = <-channelCh
	case msg := <-failedCh:
		fail("%s", msg)
	}
	t0 := time.Now()
	res := result{Impl: "pion", Role: o.role, SetupMs: float64(int64((openMs-startMs)*10)) / 10}

	if o.receive {
		select {
		case <-closedCh:
		case msg := <-failedCh:
			fail("%s", msg)
		}
		rxMu.Lock()
		res.Direction = "receive"
		res.Bytes = rxBytes
		res.Sha256 = hex.EncodeToString(rxHash.Sum(nil))
		rxMu.Unlock()
	} else {
		lowCh := make(chan struct{}, 1)
		dc.SetBufferedAmountLowThreshold(uint64(o.highWater / 4))
		dc.OnBufferedAmountLow(func() {
			select {
			case lowCh <- struct{}{}:
			default:
			}
		})
		h := sha256.New()
		var src io.Reader
		var gen *prng
		left := o.sendBytes
		if o.sendFile != "" {
			f, err := os.Open(o.sendFile)
			if err != nil {
				fail("%v", err)
			}
			defer f.Close()
			src = f
		} else {
			gen = newPrng(1)
		}
		for {
			buf := make([]byte, o.chunk) // Send keeps the slice until it is sent
			var n int
			if src != nil {
				n, err = io.ReadFull(src, buf)
				if err == io.EOF {
					break
				}
				if err != nil && err != io.ErrUnexpectedEOF {
					fail("%s: %v", o.sendFile, err)
				}
			} else {
				if left <= 0 {
					break
				}
				n = o.chunk
				if int64(n) > left {
					n = int(left)
				}
				gen.fill(buf[:n])
				left -= int64(n)
			}
			h.Write(buf[:n])
			if err = dc.Send(buf[:n]); err != nil {
				fail("send: %v", err)
			}
			res.Bytes += int64(n)
			if dc.BufferedAmount() > uint64(o.highWater) {
				select {
				case <-lowCh:
				case <-closedCh:
					fail("channel closed while sending")
				}
			}
		}
		// BufferedAmount drops as the peer acknowledges data.
		for dc.BufferedAmount() > 0 {
			time.Sleep(2 * time.Millisecond)
		}
		if err = dc.Close(); err != nil {
			fail("close: %v", err)
		}
		select {
		case <-closedCh:
		case <-time.After(5 * time.Second):
			// Everything was acknowledged; the peer's reset answer got lost.
		}
		res.Direction = "send"
		res.Sha256 = hex.EncodeToString(h.Sum(nil))
	}
	el := time.Since(t0).Seconds()
	res.TransferS = float64(int64(el*1e4)) / 1e4
	if el > 0 {
		res.Mbps = float64(int64(float64(res.Bytes)/el/1e6*100)) / 100
	}
	res.MaxRssKib = peakRssKib()
	_ = pc.Close()
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}
