// SPDX-License-Identifier: GPL-3.0-or-later

// go-client: sequential keep-alive clients of distributed-backup-server.
//
// Usage: go-client BASE_URL API_KEY CLIENTS
//
// Each client has a transport of its own (keep-alive on, no proxy), sends
// an authorized listing, an unauthorized one (401) and a download of an
// unknown key (404) on its one connection, then closes it. Prints
// "clients N requests N reused N" and exits 0 when every answer had the
// expected status; exits 1 at the first unexpected answer or error.
package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"strconv"
	"time"
)

type check struct {
	path   string
	auth   string
	status int
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: go-client BASE_URL API_KEY CLIENTS")
		os.Exit(2)
	}
	base, key := os.Args[1], os.Args[2]
	clients, err := strconv.Atoi(os.Args[3])
	if err != nil || clients < 1 {
		fmt.Fprintln(os.Stderr, "CLIENTS must be a positive number")
		os.Exit(2)
	}
	checks := []check{
		{"", "Bearer " + key, http.StatusOK},
		{"", "Bearer not-" + key, http.StatusUnauthorized},
		{"NoSuchKey", key, http.StatusNotFound},
	}

	requests, reused := 0, 0
	trace := &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			if info.Reused {
				reused++
			}
		},
	}
	for i := 0; i < clients; i++ {
		transport := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1}
		client := &http.Client{Transport: transport, Timeout: 20 * time.Second}
		for _, c := range checks {
			req, err := http.NewRequest("GET", base+c.path, nil)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
			req.Header.Set("Authorization", c.auth)
			resp, err := client.Do(req)
			if err != nil {
				fmt.Fprintf(os.Stderr, "client %d: %v\n", i, err)
				os.Exit(1)
			}
			// Read to the end, so that the connection can be kept.
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != c.status {
				fmt.Fprintf(os.Stderr, "client %d: GET /%s: status %d (expected %d), %v\n",
					i, c.path, resp.StatusCode, c.status, err)
				os.Exit(1)
			}
			requests++
		}
		transport.CloseIdleConnections()
	}
	fmt.Printf("clients %d requests %d reused %d\n", clients, requests, reused)
}
