// generate.go: writes the golden signaling files exactly as the original
// tool does, with Go's encoding/json and encoding/base64.
//
//	GO111MODULE=off go run generate.go
//
// SPDX-License-Identifier: GPL-3.0-or-later
package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
)

// the original's message
type message struct {
	Type    string `json:"type"`
	Payload string `json:"payload,omitempty"`
}

// pion's SessionDescription as it marshals
type sessionDescription struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

const offerSDP = "v=0\r\n" +
	"o=- 4326723985173941325 1700000000 IN IP4 0.0.0.0\r\n" +
	"s=-\r\n" +
	"t=0 0\r\n" +
	"a=fingerprint:sha-256 3B:9F:7A:11:C0:5E:42:8D:E3:09:6A:B2:71:4C:D8:2F:90:13:6E:A7:5B:C4:38:F2:0D:81:E9:66:2A:B5:47:1C\r\n" +
	"a=extmap-allow-mixed\r\n" +
	"a=group:BUNDLE 0\r\n" +
	"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=setup:actpass\r\n" +
	"a=mid:0\r\n" +
	"a=sendrecv\r\n" +
	"a=sctp-port:5000\r\n" +
	"a=ice-ufrag:QrZkLWvBdNfPxTcm\r\n" +
	"a=ice-pwd:hJtVbYqGnKsWpLmXcRzDfAeUoIiMnBvC\r\n"

const answerSDP = "v=0\r\n" +
	"o=- 8812377093416523178 1700000001 IN IP4 0.0.0.0\r\n" +
	"s=-\r\n" +
	"t=0 0\r\n" +
	"a=fingerprint:sha-256 C1:04:5D:E8:92:3A:7F:B6:20:CE:55:19:8B:F4:6D:A3:0E:72:C9:38:B1:5A:E6:24:9D:07:F3:8C:61:4E:D2:A5\r\n" +
	"a=extmap-allow-mixed\r\n" +
	"a=group:BUNDLE 0\r\n" +
	"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=setup:active\r\n" +
	"a=mid:0\r\n" +
	"a=sendrecv\r\n" +
	"a=sctp-port:5000\r\n" +
	"a=ice-ufrag:mWxTgHbRkZpQvLsN\r\n" +
	"a=ice-pwd:PzXcVbNmLkJhGfDsAqWeRtYuIoPaSdFg\r\n"

func write(name string, m message) {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(name, b, 0644); err != nil {
		panic(err)
	}
}

func sdp(kind, text string) message {
	b, err := json.Marshal(sessionDescription{Type: kind, SDP: text})
	if err != nil {
		panic(err)
	}
	return message{Type: "sdp", Payload: base64.StdEncoding.EncodeToString(b)}
}

func candidate(text string) message {
	return message{Type: "candidate", Payload: base64.StdEncoding.EncodeToString([]byte(text))}
}

func writeText(name, text string) {
	if err := os.WriteFile(name, []byte(text), 0644); err != nil {
		panic(err)
	}
}

func main() {
	escapesSDP := offerSDP + "a=x-note:<tag> & \"quoted\" \\ tab\there\r\n"

	// the descriptions as plain text, for the tests to compare with
	writeText("sdp-offer.sdp", offerSDP)
	writeText("sdp-answer.sdp", answerSDP)
	writeText("sdp-escapes.sdp", escapesSDP)

	write("ping.json", message{Type: "ping"})
	write("sdp-offer.json", sdp("offer", offerSDP))
	write("sdp-answer.json", sdp("answer", answerSDP))
	write("candidate-host.json", candidate("candidate:1 1 udp 2130706431 10.0.0.1 54321 typ host"))
	write("candidate-srflx.json", candidate("candidate:3362436442 1 udp 1694498815 198.51.100.7 61234 typ srflx raddr 10.0.0.1 rport 54321"))
	write("candidate-ipv6.json", candidate("candidate:2 1 udp 2130706431 fd00::1 40000 typ host"))
	// a description with the characters Go escapes differently from most encoders
	write("sdp-escapes.json", sdp("offer", escapesSDP))
}
