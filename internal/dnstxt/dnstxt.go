// Package dnstxt looks up DNS TXT records through one configured resolver
// (DNS_RESOLVER) or the system's (/etc/resolv.conf), with
// github.com/miekg/dns, so tests can point it at a server they control.
package dnstxt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// Resolver asks DNS servers for TXT records. It implements
// domain.TXTResolver.
type Resolver struct {
	servers []string // host:port, tried in order
	timeout time.Duration
}

var _ domain.TXTResolver = (*Resolver)(nil)

// ResolvConf is where the system's resolvers are listed.
const ResolvConf = "/etc/resolv.conf"

// New returns a resolver asking addr (host:port), or, when addr is empty,
// the nameservers of /etc/resolv.conf.
func New(addr string) (*Resolver, error) {
	r := &Resolver{timeout: 5 * time.Second}
	if addr != "" {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("dnstxt: resolver %q is not host:port: %w", addr, err)
		}
		r.servers = []string{addr}
		return r, nil
	}
	cfg, err := dns.ClientConfigFromFile(ResolvConf)
	if err != nil {
		return nil, fmt.Errorf("dnstxt: reading %s: %w", ResolvConf, err)
	}
	for _, s := range cfg.Servers {
		r.servers = append(r.servers, net.JoinHostPort(s, cfg.Port))
	}
	if len(r.servers) == 0 {
		return nil, fmt.Errorf("dnstxt: no nameserver in %s; set DNS_RESOLVER", ResolvConf)
	}
	if cfg.Timeout > 0 {
		r.timeout = time.Duration(cfg.Timeout) * time.Second
	}
	return r, nil
}

// Servers lists the servers asked, in order.
func (r *Resolver) Servers() []string { return append([]string(nil), r.servers...) }

// errNoAnswer is a server failure or a refusal: another server may know.
var errNoAnswer = errors.New("dnstxt: no usable answer")

// LookupTXT implements domain.TXTResolver: a name that does not exist, or
// has no TXT record, gives none and no error.
func (r *Resolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	var errs []error
	for _, server := range r.servers {
		vals, err := r.ask(ctx, server, name)
		if err == nil {
			return vals, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", server, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("dnstxt: looking up TXT %s: %w", name, errors.Join(errs...))
}

func (r *Resolver) ask(ctx context.Context, server, name string) ([]string, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	m.RecursionDesired = true
	m.SetEdns0(4096, false)
	c := &dns.Client{Net: "udp", Timeout: r.timeout}
	in, _, err := c.ExchangeContext(ctx, m, server)
	if err == nil && in.Truncated {
		c.Net = "tcp"
		in, _, err = c.ExchangeContext(ctx, m, server)
	}
	if err != nil {
		return nil, err
	}
	switch in.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return nil, nil
	default:
		return nil, fmt.Errorf("%w: %s", errNoAnswer, dns.RcodeToString[in.Rcode])
	}
	// Every TXT record of the answer counts: after a CNAME, they are the
	// target's.
	var out []string
	for _, rr := range in.Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(txt.Txt, ""))
		}
	}
	return out, nil
}
