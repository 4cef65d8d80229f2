//! The shared API session of one client: lazy login, single-flight re-login, end of session.
//!
//! All concurrent callers use the same session id. The id is kept in a [`Secret`] so it never
//! prints. Logging in happens while holding the session lock, so when several calls see
//! "session expired" (fault 5) at once, exactly one logs in again and the others reuse the new
//! id: each id carries a generation number and only the holder of the current generation may
//! invalidate it.
//!
//! This module does no I/O itself: the login future is supplied by the caller.

use std::future::Future;

use tokio::sync::Mutex;

use crate::secret::Secret;

#[derive(Default)]
struct State {
    id: Option<Secret>,
    generation: u64,
}

/// A lazily established, shared API session.
#[derive(Default)]
pub struct Session {
    state: Mutex<State>,
}

impl Session {
    /// An empty session (nobody logged in yet).
    pub fn new() -> Self {
        Session::default()
    }

    /// The current session id and its generation, logging in with `login` when there is none.
    /// Concurrent callers wait for one login instead of starting their own.
    pub async fn current<F, Fut, E>(&self, login: F) -> Result<(Secret, u64), E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Secret, E>>,
    {
        let mut st = self.state.lock().await;
        if let Some(id) = &st.id {
            return Ok((id.clone(), st.generation));
        }
        let id = login().await?;
        st.generation += 1;
        st.id = Some(id.clone());
        Ok((id, st.generation))
    }

    /// Forgets the session id of `generation` (after Magento said it expired). A no-op when
    /// another caller already replaced it.
    pub async fn invalidate(&self, generation: u64) {
        let mut st = self.state.lock().await;
        if st.generation == generation {
            st.id = None;
        }
    }

    /// Removes and returns the session id, if any (for `endSession`).
    pub async fn take(&self) -> Option<Secret> {
        self.state.lock().await.id.take()
    }

    /// The session id currently held, if any (for scrubbing messages).
    pub async fn peek(&self) -> Option<Secret> {
        self.state.lock().await.id.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn concurrent_callers_share_one_login() {
        let s = Arc::new(Session::new());
        let logins = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (s, logins) = (Arc::clone(&s), Arc::clone(&logins));
            tasks.push(tokio::spawn(async move {
                s.current(|| async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let n = logins.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, ()>(Secret::new(format!("sid{n}")))
                })
                .await
                .unwrap()
            }));
        }
        for t in tasks {
            let (id, generation) = t.await.unwrap();
            assert_eq!((id.expose(), generation), ("sid0", 1));
        }
        assert_eq!(logins.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_stale_generation_cannot_drop_a_fresh_session() {
        let s = Session::new();
        let (_, g1) = s.current(|| async { Ok::<_, ()>(Secret::new("a")) }).await.unwrap();
        s.invalidate(g1).await;
        let (id, g2) = s.current(|| async { Ok::<_, ()>(Secret::new("b")) }).await.unwrap();
        assert_eq!((id.expose(), g2), ("b", 2));
        s.invalidate(g1).await;
        let (id, _) = s.current(|| async { Ok::<_, ()>(Secret::new("c")) }).await.unwrap();
        assert_eq!(id.expose(), "b");
        assert_eq!(s.take().await.map(|x| x.expose().to_owned()), Some("b".into()));
        assert!(s.peek().await.is_none());
    }

    #[tokio::test]
    async fn a_failed_login_leaves_no_session() {
        let s = Session::new();
        assert_eq!(s.current(|| async { Err::<Secret, _>("denied") }).await.unwrap_err(), "denied");
        assert!(s.peek().await.is_none());
    }
}
