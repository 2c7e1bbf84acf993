//! Requests to the JSON services discovery uses beside WeChat's pages (WeRead's lists and its
//! login renewal): spaced per host like every request, their origin mapped for tests and
//! mirrors (`WXSEC_WEREAD_ORIGIN`), and their headers handed back (a renewal's `Set-Cookie`).
//! The headers sent (a login cookie) are never logged: only the address is.

use reqwest::header::HeaderMap;
use url::Url;

use super::Fetcher;
use crate::error::Result;

/// WeRead's host.
pub const WEREAD_HOST: &str = "weread.qq.com";

/// What a service answered. Its `Debug` hides the cookies a login's renewal hands out.
pub struct ApiResponse {
    /// The address asked (for messages).
    pub shown: String,
    /// The HTTP status.
    pub status: u16,
    /// Its `Retry-After`, in seconds.
    pub retry_after: Option<u64>,
    /// Its `Set-Cookie` headers, as sent.
    pub set_cookies: Vec<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for ApiResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiResponse")
            .field("shown", &self.shown)
            .field("status", &self.status)
            .field("set_cookies", &format_args!("*** ({})", self.set_cookies.len()))
            .field("body", &self.body.len())
            .finish()
    }
}

impl ApiResponse {
    /// An error status as the error it is.
    pub fn status_error(&self) -> crate::Error {
        crate::Error::Status { url: self.shown.clone(), status: self.status, retry_after: self.retry_after }
    }
}

impl Fetcher {
    /// The address requested for a real WeRead address (the mirror, when one is set).
    fn weread_wire(&self, real: &Url) -> Url {
        super::mirrored(real, WEREAD_HOST, self.config.weread_origin.as_ref())
    }

    /// Sends a GET (no body) or a POST of `json` to a service, in the host's turn; follows no
    /// redirect. An answer of any status is handed back (services put their error codes in the
    /// body of a 4xx too); a 429 or 503 also pauses and widens the host's spacing.
    pub async fn api(&self, real: &Url, headers: HeaderMap, json: Option<String>) -> Result<ApiResponse> {
        let wire = self.weread_wire(real);
        let host = real.host_str().unwrap_or_default().to_string();
        let req = match json {
            Some(body) => self
                .client
                .post(wire)
                .headers(headers)
                .header("content-type", "application/json;charset=UTF-8")
                .body(body),
            None => self.client.get(wire).headers(headers),
        };
        let shown = real.to_string();
        let resp = self.send_spaced(&host, req, &shown).await?;
        let status = resp.status();
        let retry_after = super::retry_after(&resp);
        let set_cookies = resp
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect();
        let body = Fetcher::body(&shown, resp, self.config.max_body).await?;
        Ok(ApiResponse { shown, status: status.as_u16(), retry_after, set_cookies, body })
    }
}
