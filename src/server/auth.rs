//! The bearer-token check run before every method (`system.*` included).
//!
//! The token is compared in constant time; faults say what is wrong without echoing what was
//! sent, and the header value is never logged.

use axum::http::header::AUTHORIZATION;

use crate::rpc::{Fault, Registry, RequestMeta};
use crate::secret::{Secret, constant_time_eq};

/// Fault code for a missing or wrong token.
pub const UNAUTHORIZED: i32 = 401;

/// Installs the token check on `registry`.
pub fn require_token<S: Send + Sync + 'static>(registry: &mut Registry<S>, token: Secret) {
    registry.authorize(move |meta| check(meta, &token));
}

/// Checks the `Authorization: Bearer <token>` header of one request.
pub fn check(meta: &RequestMeta, token: &Secret) -> Result<(), Fault> {
    let peer = meta.peer.map(|p| p.to_string()).unwrap_or_else(|| "unknown".into());
    let Some(header) = meta.headers.get(AUTHORIZATION) else {
        tracing::warn!(%peer, "call refused: no Authorization header");
        return Err(Fault::new(UNAUTHORIZED, "missing token: send the header \"Authorization: Bearer <token>\""));
    };
    let given = header.as_bytes();
    let given = match given.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case(b"bearer ") => given[7..].trim_ascii(),
        _ => {
            tracing::warn!(%peer, "call refused: Authorization header is not a bearer token");
            return Err(Fault::new(UNAUTHORIZED, "missing token: the Authorization header must be \"Bearer <token>\""));
        }
    };
    if constant_time_eq(given, token.expose().as_bytes()) {
        Ok(())
    } else {
        tracing::warn!(%peer, "call refused: wrong token");
        Err(Fault::new(UNAUTHORIZED, "wrong token: check the token configured in OpenERP against server.token"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn meta(h: Option<&'static str>) -> RequestMeta {
        let mut m = RequestMeta::default();
        if let Some(h) = h {
            m.headers.insert(AUTHORIZATION, HeaderValue::from_static(h));
        }
        m
    }

    #[test]
    fn accepts_the_token_and_refuses_the_rest_without_echo() {
        let t = Secret::new("right-token-123");
        assert!(check(&meta(Some("Bearer right-token-123")), &t).is_ok());
        assert!(check(&meta(Some("bearer right-token-123")), &t).is_ok());
        for h in [
            None,
            Some("Bearer wrong-token-456"),
            Some("Basic right-token-123"),
            Some("Bearer "),
            Some("Bearer right-token-1234"),
        ] {
            let f = check(&meta(h), &t).unwrap_err();
            assert_eq!(f.code, UNAUTHORIZED);
            assert!(!f.message.contains("token-"), "{}", f.message);
        }
    }
}
