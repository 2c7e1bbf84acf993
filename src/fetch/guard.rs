//! Which addresses an image download may reach. Image addresses come from pages and from other
//! tools' archives, so they are untrusted: without this a crafted record makes the crawl host
//! request its own loopback, private network or cloud metadata service. Only public unicast
//! addresses are reached, unless the user names a host as allowed.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use url::{Host, Url};

/// The hosts a user allowed although they are not public (`--allow-image-host`), lower case,
/// IPv6 without brackets.
#[derive(Debug, Clone, Default)]
pub struct Allowed(Arc<Vec<String>>);

impl Allowed {
    /// From the names and addresses a user gave.
    pub fn new<S: AsRef<str>>(hosts: &[S]) -> Allowed {
        let norm = |h: &str| h.trim().trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        Allowed(Arc::new(hosts.iter().map(|h| norm(h.as_ref())).filter(|h| !h.is_empty()).collect()))
    }

    fn contains(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.0.iter().any(|h| h.eq_ignore_ascii_case(host))
    }
}

/// Why an address may not be reached, or `None` when it may. Checked before every request and
/// every redirect hop: a literal address here, a name when it is resolved ([`PublicResolver`]).
pub fn refusal(url: &Url, allowed: &Allowed) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Some(format!("{} is not an http(s) address", url.scheme()));
    }
    let host = url.host()?;
    let ip = match host {
        Host::Ipv4(a) => IpAddr::V4(a),
        Host::Ipv6(a) => IpAddr::V6(a),
        Host::Domain(_) => return None,
    };
    let shown = url.host_str().unwrap_or_default();
    if allowed.contains(shown) {
        return None;
    }
    non_public(ip).map(|what| refused_text(shown, "is", what))
}

/// The refusal as the user reads it: `{host} {verb} {what}`, and how to allow the host.
fn refused_text(host: &str, verb: &str, what: &str) -> String {
    format!(
        "{host} {verb} {what}, not a public address; refused (allow it with --allow-image-host {})",
        host.trim_start_matches('[').trim_end_matches(']')
    )
}

/// What kind of non-public address `ip` is, or `None` for a public unicast address.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) => non_public_v4(a),
        IpAddr::V6(a) => non_public_v6(a),
    }
}

fn non_public_v4(a: Ipv4Addr) -> Option<&'static str> {
    let [b0, b1, b2, _] = a.octets();
    let what = match (b0, b1, b2) {
        (0, ..) => "an unspecified address",
        (10, ..) | (192, 168, _) => "a private address",
        (172, 16..=31, _) => "a private address",
        (100, 64..=127, _) => "a shared (carrier-grade NAT) address",
        (127, ..) => "a loopback address",
        (169, 254, _) => "a link-local address",
        (192, 0, 0) | (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a reserved address",
        (198, 18..=19, _) => "a benchmarking address",
        (224..=239, ..) => "a multicast address",
        (240..=255, ..) => "a reserved address",
        _ => return None,
    };
    Some(what)
}

fn non_public_v6(a: Ipv6Addr) -> Option<&'static str> {
    let s = a.segments();
    // Forms that carry an IPv4 address reach that address: judge it.
    if let Some(v4) = a.to_ipv4_mapped() {
        return non_public_v4(v4);
    }
    let embedded = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return non_public_v4(embedded(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return non_public_v4(embedded(s[1], s[2]));
    }
    let what = match s {
        [0, 0, 0, 0, 0, 0, 0, 0] => "an unspecified address",
        [0, 0, 0, 0, 0, 0, 0, 1] => "a loopback address",
        [0, 0, 0, 0, 0, 0, _, _] => "a reserved address",
        [x, ..] if x & 0xfe00 == 0xfc00 => "a private (unique local) address",
        [x, ..] if x & 0xffc0 == 0xfe80 || x & 0xffc0 == 0xfec0 => "a link-local address",
        [x, ..] if x & 0xff00 == 0xff00 => "a multicast address",
        [0x2001, 0x0db8, ..] => "a documentation address",
        [0x0100, 0, 0, 0, ..] => "a discard address",
        _ => return None,
    };
    Some(what)
}

/// The image client's resolver: a name is resolved by the system and only its public addresses
/// are kept, so a name pointing at 127.0.0.1 is refused like the address itself. Names the user
/// allowed resolve as usual.
#[derive(Debug, Clone, Default)]
pub struct PublicResolver {
    /// Hosts reached whatever they resolve to.
    pub allowed: Allowed,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let allowed = self.allowed.clone();
        let fut: Pin<Box<dyn Future<Output = Result<reqwest::dns::Addrs, BoxError>> + Send>> = Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if allowed.contains(&host) {
                return Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs);
            }
            let public: Vec<SocketAddr> = found.iter().copied().filter(|a| non_public(a.ip()).is_none()).collect();
            if public.is_empty() {
                let what = found.first().and_then(|a| non_public(a.ip())).unwrap_or("no address at all");
                return Err(refused_text(&host, "resolves to", what).into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        });
        fut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(u: &str) -> bool {
        refusal(&Url::parse(u).unwrap(), &Allowed::default()).is_some()
    }

    #[test]
    fn non_public_addresses_are_refused() {
        for u in [
            "http://127.0.0.1/a.png",
            "http://127.8.9.1:8080/a.png",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://172.31.255.255/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://[::1]/",
            "http://[::]/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://[ff02::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:169.254.169.254]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:7f00:1::]/",
            "http://2130706433/",
            "http://0x7f.1/",
            "file:///etc/passwd",
            "ftp://mmbiz.qpic.cn/a.png",
        ] {
            assert!(refused(u), "{u} should be refused");
        }
        for u in [
            "https://mmbiz.qpic.cn/mmbiz_png/x/0?wx_fmt=png",
            "http://8.8.8.8/a.png",
            "http://172.32.0.1/",
            "http://[2606:4700::1111]/",
            "http://[::ffff:8.8.8.8]/",
        ] {
            assert!(!refused(u), "{u} should be allowed");
        }
    }

    #[test]
    fn allowed_hosts_pass() {
        let allowed = Allowed::new(&["127.0.0.1", "[::1]", "Intranet.Example"]);
        assert!(refusal(&Url::parse("http://127.0.0.1:9/a").unwrap(), &allowed).is_none());
        assert!(refusal(&Url::parse("http://[::1]:9/a").unwrap(), &allowed).is_none());
        assert!(refusal(&Url::parse("http://10.0.0.1/a").unwrap(), &allowed).is_some());
        assert!(allowed.contains("intranet.example"));
        let msg = refusal(&Url::parse("http://169.254.169.254/").unwrap(), &Allowed::default()).unwrap();
        assert!(msg.contains("link-local") && msg.contains("--allow-image-host 169.254.169.254"), "{msg}");
    }
}
