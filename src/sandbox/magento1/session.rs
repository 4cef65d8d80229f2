//! API sessions (`api_session` rows): 32-hex ids, a sliding idle timeout, `endSession`, and a
//! test hook that ages every session past the timeout.
//!
//! Expired, unknown and ended sessions are indistinguishable to the client: all give fault 5.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::api_config::Acl;

#[derive(Debug, Clone)]
struct Session {
    user: String,
    acl: Acl,
    last_seen: Instant,
    aged: bool,
}

/// The live sessions of the sandbox.
#[derive(Debug)]
pub(crate) struct Sessions {
    by_id: HashMap<String, Session>,
    timeout: Duration,
    rng: fastrand::Rng,
}

/// What a valid session grants.
#[derive(Debug, Clone)]
pub(crate) struct SessionUser {
    /// Its role.
    pub acl: Acl,
}

impl Sessions {
    /// Empty table with the given idle timeout.
    pub(crate) fn new(timeout: Duration, seed: u64) -> Self {
        Sessions { by_id: HashMap::new(), timeout, rng: fastrand::Rng::with_seed(seed) }
    }

    /// Sets the idle timeout (`api/config/session_timeout`).
    pub(crate) fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// A fresh 32-hex-character id (like the md5 ids of OpenMage ≤ 20.17).
    pub(crate) fn new_id(&mut self) -> String {
        (0..32).map(|_| char::from_digit(self.rng.u32(0..16), 16).unwrap_or('0')).collect()
    }

    fn expired(&self, s: &Session, now: Instant) -> bool {
        s.aged || now.duration_since(s.last_seen) > self.timeout
    }

    /// Starts a session for `user` (after the credentials were checked). Like `login`, it
    /// deletes that user's expired sessions first.
    pub(crate) fn login(&mut self, user: &str, acl: Acl) -> String {
        let now = Instant::now();
        let stale: Vec<String> =
            self.by_id.iter().filter(|(_, s)| s.user == user && self.expired(s, now)).map(|(k, _)| k.clone()).collect();
        for k in stale {
            self.by_id.remove(&k);
        }
        let id = self.new_id();
        self.by_id.insert(id.clone(), Session { user: user.to_owned(), acl, last_seen: now, aged: false });
        id
    }

    /// Validates `id` and refreshes its idle timer (sliding timeout); `None` means fault 5.
    pub(crate) fn touch(&mut self, id: &str) -> Option<SessionUser> {
        let now = Instant::now();
        let expired = self.by_id.get(id).map(|s| self.expired(s, now))?;
        if expired {
            return None;
        }
        let s = self.by_id.get_mut(id)?;
        s.last_seen = now;
        Some(SessionUser { acl: s.acl.clone() })
    }

    /// Deletes a session (`endSession`); unknown ids are ignored, as in Magento.
    pub(crate) fn end(&mut self, id: &str) {
        self.by_id.remove(id);
    }

    /// Ages every live session past the timeout (as the recordings did in the database).
    pub(crate) fn expire_all(&mut self) {
        for s in self.by_id.values_mut() {
            s.aged = true;
        }
    }

    /// Sessions that would still be accepted.
    pub(crate) fn live(&self) -> usize {
        let now = Instant::now();
        self.by_id.values().filter(|s| !self.expired(s, now)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_slide_expire_and_end() {
        let mut s = Sessions::new(Duration::from_millis(50), 1);
        let id = s.login("connector", Acl::All);
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(30));
            assert!(s.touch(&id).is_some(), "each call refreshes the idle timer");
        }
        std::thread::sleep(Duration::from_millis(70));
        assert!(s.touch(&id).is_none());
        let id2 = s.login("connector", Acl::All);
        assert_eq!(s.live(), 1);
        s.end(&id2);
        assert!(s.touch(&id2).is_none());
        let id3 = s.login("connector", Acl::All);
        s.expire_all();
        assert!(s.touch(&id3).is_none());
        assert!(s.touch("deadbeefdeadbeefdeadbeefdeadbeef").is_none());
    }
}
