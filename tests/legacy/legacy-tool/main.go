// legacy-tool: a stand-in for the original Go backup tool (pion/webrtc v3),
// used by the compatibility tests. It reproduces the original's command
// line, its password file, its FILE.io signaling and its data-channel
// framing, including the original's known weaknesses (bare API key, SDP
// without candidates and one upload per trickled candidate, channel closed
// right after the last write, received names used as given, versions rotated
// before the new data is complete).
//
// Like the original, SIGINT and SIGTERM close the peer connection (a DTLS
// close_notify, no stream reset) and exit with status 1.
//
// Test-only options: --base-url, --ice-address, --timeout, --send-name,
// --lie-sha256, which makes it speak this project's framing with a wrong
// SHA-256 in the end frame (a lying peer, or a stream corrupted on the way),
// --send-rate, which paces the content (KiB/s) so that a test can interrupt
// it in the middle, and --poll, the period of its signaling polls.
//
// SPDX-License-Identifier: GPL-3.0-or-later
package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/datachannel"
	"github.com/pion/ice/v2"
	"github.com/pion/webrtc/v3"
)

const (
	vaultKey   = "AES-128-key-1234"
	vaultIV    = "IV-1234567890123"
	chunkSize = 32768
)

// stringSlice follows pflag's StringSlice: comma-separated, repeatable, the
// first use replaces the default.
type stringSlice struct {
	values  []string
	changed bool
}

func (s *stringSlice) String() string { return strings.Join(s.values, ",") }

func (s *stringSlice) Set(v string) error {
	if !s.changed {
		s.values = nil
		s.changed = true
	}
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			s.values = append(s.values, part)
		}
	}
	return nil
}

type options struct {
	apikey, dstdir, outfile, passfile, password1, password2 string
	srcentry, uuid, baseURL, iceAddress, sendName           string
	encrypt, zipdir                                         bool
	stun                                                    stringSlice
	versions                                                uint
	timeout                                                 float64
	sendNameSet                                             bool
	lieSHA256                                               bool
	sendRate                                                uint
	poll                                                    float64
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "legacy-tool: "+format+"\n", a...)
	os.Exit(1)
}

func parseOptions() *options {
	o := &options{stun: stringSlice{values: []string{"stun.l.google.com:19302"}}}
	fs := flag.NewFlagSet("legacy-tool", flag.ExitOnError)
	str := func(p *string, short, long, usage string) {
		fs.StringVar(p, short, "", usage)
		fs.StringVar(p, long, "", usage)
	}
	str(&o.apikey, "a", "apikey", "FILE.io API key")
	str(&o.dstdir, "d", "dstdir", "destination directory (receiver)")
	str(&o.outfile, "o", "outfile", "name of the zipped directory")
	str(&o.passfile, "p", "passfile", "password file")
	str(&o.password1, "1", "password1", "inner zip password")
	str(&o.password2, "2", "password2", "outer zip password")
	str(&o.srcentry, "s", "srcentry", "file or directory to send")
	str(&o.uuid, "u", "uuid", "session id")
	fs.BoolVar(&o.encrypt, "e", false, "encryption mode")
	fs.BoolVar(&o.encrypt, "encrypt", false, "encryption mode")
	fs.BoolVar(&o.zipdir, "z", false, "zip the directory")
	fs.BoolVar(&o.zipdir, "zipdir", false, "zip the directory")
	fs.Var(&o.stun, "S", "STUN servers")
	fs.Var(&o.stun, "stun", "STUN servers")
	fs.UintVar(&o.versions, "v", 1, "versions kept")
	fs.UintVar(&o.versions, "versions", 1, "versions kept")
	fs.StringVar(&o.baseURL, "base-url", "https://file.io", "FILE.io base URL (test only)")
	fs.StringVar(&o.iceAddress, "ice-address", "", "only local address for ICE (test only)")
	fs.Float64Var(&o.timeout, "timeout", 120, "bound of the whole run in seconds (test only)")
	fs.StringVar(&o.sendName, "send-name", "", "name put on the wire instead of the real one (test only)")
	fs.BoolVar(&o.lieSHA256, "lie-sha256", false, "send with this project's framing and a wrong SHA-256 (test only)")
	fs.UintVar(&o.sendRate, "send-rate", 0, "pace the content to this many KiB/s (test only)")
	fs.Float64Var(&o.poll, "poll", 1, "seconds between two signaling polls (test only)")
	_ = fs.Parse(os.Args[1:])
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "send-name" {
			o.sendNameSet = true
		}
	})
	if fs.NArg() > 0 {
		fail("unexpected argument %q", fs.Arg(0))
	}
	if o.versions > 65535 {
		fail("-v %d is out of range for uint16", o.versions)
	}
	return o
}

// --- password file -----------------------------------------------------------

func writePassfile(path, p1, p2 string) error {
	if len(p1) > 255 || len(p2) > 255 {
		return errors.New("passwords are limited to 255 bytes")
	}
	plain := []byte{byte(len(p1))}
	plain = append(plain, p1...)
	plain = append(plain, byte(len(p2)))
	plain = append(plain, p2...)
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	plain = append(plain, bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, err := aes.NewCipher([]byte(vaultKey))
	if err != nil {
		return err
	}
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, []byte(vaultIV)).CryptBlocks(out, plain)
	return os.WriteFile(path, out, 0664)
}

func readPassfile(path string) (string, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return "", "", errors.New("bad password file length")
	}
	block, err := aes.NewCipher([]byte(vaultKey))
	if err != nil {
		return "", "", err
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, []byte(vaultIV)).CryptBlocks(plain, data)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > aes.BlockSize {
		return "", "", errors.New("bad password file padding")
	}
	plain = plain[:len(plain)-pad]
	if len(plain) < 1 || len(plain) < 1+int(plain[0])+1 {
		return "", "", errors.New("bad password file content")
	}
	n1 := int(plain[0])
	p1 := string(plain[1 : 1+n1])
	rest := plain[1+n1:]
	n2 := int(rest[0])
	if len(rest) != 1+n2 {
		return "", "", errors.New("bad password file content")
	}
	return p1, string(rest[1:]), nil
}

// --- FILE.io signaling -------------------------------------------------------

type fileio struct {
	base   string
	apikey string
	client *http.Client
}

type node struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

type message struct {
	Type    string `json:"type"`
	Payload string `json:"payload,omitempty"`
	// With --lie-sha256: the member by which this project's peers
	// recognise each other's framing.
	Current int `json:"distributed-backup,omitempty"`
}

func (f *fileio) do(method, path string, body []byte, contentType string) ([]byte, int, error) {
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequest(method, f.base+path, rd)
		if err != nil {
			return nil, 0, err
		}
		req.Header.Set("Authorization", f.apikey)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := f.client.Do(req)
		if err != nil {
			return nil, 0, err
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, 0, err
		}
		if resp.StatusCode == http.StatusTooManyRequests && attempt < 10 {
			wait := time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = time.Duration(s) * time.Second
			}
			time.Sleep(wait)
			continue
		}
		return data, resp.StatusCode, nil
	}
}

func (f *fileio) upload(name string, content []byte) error {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("expires", "10m")
	_ = w.WriteField("maxDownloads", "1")
	_ = w.WriteField("autoDelete", "true")
	part, err := w.CreateFormFile("file", name)
	if err != nil {
		return err
	}
	_, _ = part.Write(content)
	if err := w.Close(); err != nil {
		return err
	}
	_, status, err := f.do("POST", "/", buf.Bytes(), w.FormDataContentType())
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return fmt.Errorf("upload of %s: HTTP %d", name, status)
	}
	return nil
}

func (f *fileio) list(pattern string) ([]node, error) {
	data, status, err := f.do("GET", "/?search="+url.QueryEscape(pattern)+"&sort=created:asc", nil, "")
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("list: HTTP %d", status)
	}
	var r struct {
		Nodes []node `json:"nodes"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("list: %v", err)
	}
	return r.Nodes, nil
}

func (f *fileio) download(key string) ([]byte, error) {
	data, status, err := f.do("GET", "/"+url.PathEscape(key), nil, "")
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("download: HTTP %d", status)
	}
	return data, nil
}

func (f *fileio) remove(key string) error {
	_, status, err := f.do("DELETE", "/"+url.PathEscape(key), nil, "")
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return fmt.Errorf("delete: HTTP %d", status)
	}
	return nil
}

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		fail("random: %v", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// --- zipped directory --------------------------------------------------------

// zipDirectory builds the double archive with Info-ZIP's zip (ZipCrypto on
// both levels): DIR.zip with password 1, inside OUTFILE with password 2.
func zipDirectory(src, outfile, p1, p2 string) (string, func(), error) {
	work, err := os.MkdirTemp("", "legacy-zip")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(work) }
	abs, err := filepath.Abs(src)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	inner := filepath.Join(work, filepath.Base(abs)+".zip")
	run := func(dir string, args ...string) error {
		cmd := exec.Command("zip", args...)
		cmd.Dir = dir
		cmd.Stderr = os.Stderr
		return cmd.Run()
	}
	innerArgs := []string{"-q", "-r"}
	if p1 != "" {
		innerArgs = append(innerArgs, "-P", p1)
	}
	innerArgs = append(innerArgs, inner, ".")
	if err := run(abs, innerArgs...); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("zip (inner): %v", err)
	}
	outer := filepath.Join(work, "outer", filepath.Base(outfile))
	if err := os.Mkdir(filepath.Dir(outer), 0700); err != nil {
		cleanup()
		return "", nil, err
	}
	outerArgs := []string{"-q", "-0", "-j"}
	if p2 != "" {
		outerArgs = append(outerArgs, "-P", p2)
	}
	outerArgs = append(outerArgs, outer, inner)
	if err := run(work, outerArgs...); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("zip (outer): %v", err)
	}
	return outer, cleanup, nil
}

// --- versions ----------------------------------------------------------------

// rotate makes room for a new NAME in DIR: NAME.(n-2) → NAME.(n-1), …,
// NAME → NAME.1, so that at most n files of that name exist afterwards.
func rotate(dir, name string, n uint) {
	if n < 1 {
		n = 1
	}
	base := filepath.Join(dir, name)
	version := func(i uint) string {
		if i == 0 {
			return base
		}
		return fmt.Sprintf("%s.%d", base, i)
	}
	os.Remove(version(n - 1))
	for i := n - 1; i >= 1; i-- {
		os.Rename(version(i-1), version(i))
	}
}

// --- transfer ----------------------------------------------------------------

type channel interface {
	io.ReadWriteCloser
}

func sendFile(dc channel, name, path string, rate uint) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if len(name) > 255 {
		return errors.New("name longer than 255 bytes")
	}
	if _, err := dc.Write([]byte{byte(len(name))}); err != nil {
		return err
	}
	if _, err := dc.Write([]byte(name)); err != nil {
		return err
	}
	buf := make([]byte, chunkSize)
	var w io.Writer = dc
	if rate > 0 {
		w = &pacedWriter{w: dc, rate: float64(rate) * 1024, start: time.Now()}
	}
	if _, err := io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{f}, buf); err != nil {
		return err
	}
	return dc.Close()
}

// pacedWriter holds writes back so that no more than rate bytes a second
// leave on average.
type pacedWriter struct {
	w       io.Writer
	rate    float64
	start   time.Time
	written float64
}

func (p *pacedWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.written += float64(n)
	due := p.start.Add(time.Duration(p.written / p.rate * float64(time.Second)))
	if wait := time.Until(due); wait > 0 {
		time.Sleep(wait)
	}
	return n, err
}

// sendLying speaks this project's framing (a JSON header, the content, a JSON
// end frame) but puts a wrong SHA-256 in the end frame, then prints the text
// messages the receiver answers with.
func sendLying(dc channel, name, path string) error {
	rw, ok := dc.(datachannel.ReadWriteCloser)
	if !ok {
		return errors.New("the data channel cannot send text messages")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	header, _ := json.Marshal(map[string]interface{}{
		"type": "header", "name": name, "size": len(data), "kind": "file"})
	if _, err := rw.WriteDataChannel(header, true); err != nil {
		return err
	}
	for off := 0; off < len(data); off += chunkSize {
		end := off + chunkSize
		if end > len(data) {
			end = len(data)
		}
		if _, err := rw.WriteDataChannel(data[off:end], false); err != nil {
			return err
		}
	}
	sum := sha256.Sum256(data)
	sum[0] ^= 0xff
	endFrame, _ := json.Marshal(map[string]interface{}{
		"type": "end", "bytes": len(data), "sha256": hex.EncodeToString(sum[:])})
	if _, err := rw.WriteDataChannel(endFrame, true); err != nil {
		return err
	}
	buf := make([]byte, 65536)
	for {
		n, isString, err := rw.ReadDataChannel(buf)
		if err != nil {
			return nil
		}
		if isString {
			fmt.Printf("peer says: %s\n", buf[:n])
		}
	}
}

// readMessage reads one message into a buffer of n bytes, as the original
// did: a larger message fails with "short buffer".
func readMessage(dc channel, n int) ([]byte, error) {
	buf := make([]byte, n)
	got, err := dc.Read(buf)
	if err != nil {
		return nil, err
	}
	return buf[:got], nil
}

func receiveFile(dc channel, dir string, versions uint) (string, int64, error) {
	head, err := readMessage(dc, 1)
	if err != nil {
		return "", 0, fmt.Errorf("reading the name length: %v", err)
	}
	nameBytes, err := readMessage(dc, int(head[0]))
	if err != nil {
		return "", 0, fmt.Errorf("reading the name: %v", err)
	}
	name := string(nameBytes)
	rotate(dir, name, versions)
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return "", 0, err
	}
	var total int64
	buf := make([]byte, chunkSize)
	for {
		n, err := dc.Read(buf)
		if n > 0 {
			if _, werr := f.Write(buf[:n]); werr != nil {
				f.Close()
				return "", 0, werr
			}
			total += int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			f.Close()
			return "", 0, fmt.Errorf("reading the content: %v", err)
		}
	}
	return name, total, f.Close()
}

// --- main --------------------------------------------------------------------

func main() {
	o := parseOptions()
	time.AfterFunc(time.Duration(o.timeout*float64(time.Second)), func() {
		fail("timed out after %g s", o.timeout)
	})

	if o.encrypt {
		if o.passfile == "" {
			fail("-p is required with -e")
		}
		if err := writePassfile(o.passfile, o.password1, o.password2); err != nil {
			fail("writing %s: %v", o.passfile, err)
		}
		return
	}

	sending := o.srcentry != ""
	if sending == (o.dstdir != "") {
		fail("give either -s (send) or -d (receive)")
	}
	if o.uuid == "" || o.apikey == "" {
		fail("-u and -a are required")
	}
	if o.versions < 1 {
		fail("-v must be at least 1")
	}

	sendPath, sendName := o.srcentry, filepath.Base(o.srcentry)
	if sending {
		st, err := os.Stat(o.srcentry)
		if err != nil {
			fail("%v", err)
		}
		if st.IsDir() {
			if !o.zipdir || o.outfile == "" || o.passfile == "" {
				fail("a directory needs -z, -o and -p")
			}
			p1, p2, err := readPassfile(o.passfile)
			if err != nil {
				fail("reading %s: %v", o.passfile, err)
			}
			path, cleanup, err := zipDirectory(o.srcentry, o.outfile, p1, p2)
			if err != nil {
				fail("%v", err)
			}
			defer cleanup()
			sendPath, sendName = path, o.outfile
		}
		if o.sendNameSet {
			sendName = o.sendName
		}
	} else if st, err := os.Stat(o.dstdir); err != nil || !st.IsDir() {
		fail("%s is not a directory", o.dstdir)
	}

	se := webrtc.SettingEngine{}
	se.DetachDataChannels()
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if o.iceAddress != "" {
		ip := net.ParseIP(o.iceAddress)
		if ip == nil {
			fail("--ice-address %q is not an IP address", o.iceAddress)
		}
		if ip.IsLoopback() {
			se.SetIncludeLoopbackCandidate(true)
		}
		if ip.To4() != nil {
			se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		} else {
			se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP6})
		}
		se.SetIPFilter(func(candidate net.IP) bool { return candidate.Equal(ip) })
	}
	cfg := webrtc.Configuration{ICEServers: []webrtc.ICEServer{}}
	if len(o.stun.values) > 0 {
		urls := make([]string, 0, len(o.stun.values))
		for _, s := range o.stun.values {
			urls = append(urls, "stun:"+s)
		}
		cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: urls})
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		fail("peer connection: %v", err)
	}

	sig := &fileio{base: strings.TrimRight(o.baseURL, "/"), apikey: o.apikey,
		client: &http.Client{Timeout: 30 * time.Second}}
	instance := newUUID()
	fileName := func(kind string) string {
		return fmt.Sprintf("%s_%s_%s.json", o.uuid, kind, instance)
	}

	// Uploads leave in order: the SDP before the candidates.
	var uploadMu sync.Mutex
	uploadErr := make(chan error, 1)
	post := func(kind string, payload []byte) {
		uploadMu.Lock()
		defer uploadMu.Unlock()
		m := message{Type: kind}
		if o.lieSHA256 && kind == "sdp" {
			m.Current = 1
		}
		if payload != nil {
			m.Payload = base64.StdEncoding.EncodeToString(payload)
		}
		body, _ := json.Marshal(m)
		if err := sig.upload(fileName(kind), body); err != nil {
			select {
			case uploadErr <- err:
			default:
			}
		}
	}

	// Ping rule: a waiting peer's ping makes us the offerer.
	pings, err := sig.list(o.uuid + "_ping")
	if err != nil {
		fail("signaling: %v", err)
	}
	offerer := len(pings) > 0
	if offerer {
		if err := sig.remove(pings[0].Key); err != nil {
			fail("signaling: %v", err)
		}
	} else {
		post("ping", nil)
	}

	var queued atomic.Bool
	done := make(chan error, 1)
	finish := func(err error) {
		select {
		case done <- err:
		default:
		}
	}
	transfer := func(dc channel) {
		if sending {
			fmt.Printf("channel open, sending %q\n", sendName)
			if o.lieSHA256 {
				finish(sendLying(dc, sendName, sendPath))
				return
			}
			err := sendFile(dc, sendName, sendPath, o.sendRate)
			if err != nil {
				finish(err)
				return
			}
			queued.Store(true)
			// The original closed and waited for the end of the connection,
			// not for any acknowledgement.
			buf := make([]byte, chunkSize)
			for {
				if _, err := dc.Read(buf); err != nil {
					break
				}
			}
			finish(nil)
		} else {
			name, size, err := receiveFile(dc, o.dstdir, o.versions)
			if err == nil {
				fmt.Printf("received %s (%d bytes)\n", name, size)
			}
			finish(err)
		}
	}
	attach := func(d *webrtc.DataChannel) {
		d.OnOpen(func() {
			raw, err := d.Detach()
			if err != nil {
				finish(err)
				return
			}
			go transfer(raw)
		})
	}

	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		post("candidate", []byte(c.ToJSON().Candidate))
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed,
			webrtc.PeerConnectionStateDisconnected:
			if sending && queued.Load() {
				// Once the data was queued, the original called it a success.
				finish(nil)
			} else {
				finish(fmt.Errorf("connection %s", s))
			}
		}
	})

	sendDescription := func(d webrtc.SessionDescription) {
		if err := pc.SetLocalDescription(d); err != nil {
			fail("local description: %v", err)
		}
		b, _ := json.Marshal(d)
		post("sdp", b)
	}

	if offerer {
		d, err := pc.CreateDataChannel("data", nil)
		if err != nil {
			fail("data channel: %v", err)
		}
		attach(d)
		offer, err := pc.CreateOffer(nil)
		if err != nil {
			fail("offer: %v", err)
		}
		sendDescription(offer)
	} else {
		pc.OnDataChannel(attach)
	}

	// Poll the session's files and feed the peer connection.
	go func() {
		seen := map[string]bool{}
		var pending []string
		haveRemote := false
		for {
			nodes, err := sig.list(o.uuid)
			if err != nil {
				fmt.Fprintf(os.Stderr, "legacy-tool: signaling: %v\n", err)
			}
			for _, n := range nodes {
				if seen[n.Key] || strings.Contains(n.Name, instance) {
					continue
				}
				seen[n.Key] = true
				data, err := sig.download(n.Key)
				if err != nil {
					continue
				}
				var m message
				if json.Unmarshal(data, &m) != nil {
					continue
				}
				payload, err := base64.StdEncoding.DecodeString(m.Payload)
				if err != nil {
					continue
				}
				switch m.Type {
				case "sdp":
					var d webrtc.SessionDescription
					if json.Unmarshal(payload, &d) != nil {
						continue
					}
					if err := pc.SetRemoteDescription(d); err != nil {
						fail("remote description: %v", err)
					}
					haveRemote = true
					if d.Type == webrtc.SDPTypeOffer {
						answer, err := pc.CreateAnswer(nil)
						if err != nil {
							fail("answer: %v", err)
						}
						sendDescription(answer)
					}
					for _, c := range pending {
						_ = pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: c})
					}
					pending = nil
				case "candidate":
					if haveRemote {
						_ = pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: string(payload)})
					} else {
						pending = append(pending, string(payload))
					}
				}
			}
			time.Sleep(time.Duration(o.poll * float64(time.Second)))
		}
	}()

	interrupted := make(chan os.Signal, 1)
	signal.Notify(interrupted, syscall.SIGINT, syscall.SIGTERM)
	select {
	case err = <-done:
	case err = <-uploadErr:
		err = fmt.Errorf("signaling: %v", err)
	case s := <-interrupted:
		err = fmt.Errorf("interrupted by %v", s)
	}
	_ = pc.Close()
	if err != nil {
		fail("%v", err)
	}
}
