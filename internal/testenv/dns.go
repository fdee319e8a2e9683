package testenv

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// DNS is a real, authoritative DNS server on a free loopback UDP port
// whose TXT records the test sets and removes. Point DNS_RESOLVER at Addr.
type DNS struct {
	Addr string // 127.0.0.1:port

	mu      sync.Mutex
	txt     map[string][]string // fqdn (lowercase) → values
	queries map[string]int
}

// MustDNS starts a DNS server for the test and stops it when the test
// ends. Names it holds no record for answer NXDOMAIN.
func MustDNS(tb testing.TB) *DNS {
	tb.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testenv: DNS listener: %v", err)
	}
	d := &DNS{Addr: pc.LocalAddr().String(), txt: map[string][]string{}, queries: map[string]int{}}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: d, NotifyStartedFunc: func() { close(started) }}
	done := make(chan error, 1)
	go func() { done <- srv.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-done:
		tb.Fatalf("testenv: DNS server: %v", err)
	case <-time.After(10 * time.Second):
		tb.Fatal("testenv: DNS server did not start")
	}
	tb.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			tb.Errorf("testenv: stopping the DNS server: %v", err)
		}
		if err := <-done; err != nil {
			tb.Errorf("testenv: DNS server: %v", err)
		}
	})
	return d
}

func key(name string) string { return strings.ToLower(dns.Fqdn(name)) }

// SetTXT replaces the TXT records at name (a record per value).
func (d *DNS) SetTXT(name string, values ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.txt[key(name)] = append([]string(nil), values...)
}

// RemoveTXT removes every TXT record at name: it answers NXDOMAIN again.
func (d *DNS) RemoveTXT(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.txt, key(name))
}

// Queries counts the TXT questions asked about name so far.
func (d *DNS) Queries(name string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queries[key(name)]
}

// ServeDNS implements dns.Handler.
func (d *DNS) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	k := key(q.Name)
	d.mu.Lock()
	vals, ok := d.txt[k]
	if q.Qtype == dns.TypeTXT {
		d.queries[k]++
	}
	d.mu.Unlock()
	switch {
	case !ok:
		m.Rcode = dns.RcodeNameError
	case q.Qtype == dns.TypeTXT:
		for _, v := range vals {
			m.Answer = append(m.Answer, &dns.TXT{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 0},
				Txt: splitTXT(v),
			})
		}
	}
	_ = w.WriteMsg(m)
}

// splitTXT cuts a value into the 255-byte strings a TXT record holds.
func splitTXT(v string) []string {
	var out []string
	for len(v) > 255 {
		out = append(out, v[:255])
		v = v[255:]
	}
	return append(out, v)
}
