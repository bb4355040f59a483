//! What the gateway learns of its decision log between requests: whether it can take a record
//! (probed, so `tollgate_audit_log_up` returns to 1 once space is freed, not only at the next
//! successful write), and how many direct production changes it records, whoever marked them
//! (this gateway, another one, `tollgate audit mark`), so each is counted once.

use std::sync::Arc;
use std::time::Duration;

use crate::gateway::Gateway;

/// How often [`watch`] looks at the log by default.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(10);

impl Gateway {
    /// Probes the decision log and counts its direct production changes now (see the module
    /// documentation); does nothing without a [`crate::Marker`]. Blocking: it reads the log.
    pub fn refresh(&self) {
        let Some(marker) = &self.marker else {
            return;
        };
        match marker.probe() {
            Ok(()) => self.set_audit_up(true),
            Err(error) => {
                if self.audit_up() {
                    eprintln!("warning: the decision log cannot take records: {error}");
                }
                self.set_audit_up(false);
            }
        }
        self.count_marks();
    }

    /// Counts the direct production changes the log records (after a mark, and by [`watch`]).
    /// Blocking: it reads the log.
    pub(crate) fn count_marks(&self) {
        if let Some(marker) = &self.marker {
            match marker.direct_production_changes() {
                Ok(total) => self.metrics().count_direct_changes(total),
                Err(error) => {
                    eprintln!("warning: cannot count the direct production changes: {error}");
                }
            }
        }
    }
}

/// Refreshes `gateway` every `interval` ([`Gateway::refresh`], on the blocking pool) while the
/// task runs.
pub async fn watch(gateway: Arc<Gateway>, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let gw = Arc::clone(&gateway);
        if let Err(join) = tokio::task::spawn_blocking(move || gw.refresh()).await {
            eprintln!("warning: the decision log could not be looked at: {join}");
        }
    }
}
