//! Outbound messages (SMS, later e-mail). No SMS gateway exists here, so the default sender
//! writes each message to the log and keeps the latest ones in memory for the system admin's
//! page. A production deployment plugs a gateway in behind the same trait.
use std::collections::VecDeque;
use std::sync::Mutex;

use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub struct OutboundMessage {
    pub at: OffsetDateTime,
    pub channel: &'static str,
    pub to: String,
    pub body: String,
}

pub trait Sender: Send + Sync {
    fn send(&self, msg: OutboundMessage);
    /// The latest messages, newest first, if this sender keeps them (the development sender does).
    fn recent(&self) -> Vec<OutboundMessage> {
        Vec::new()
    }
}

#[derive(Default)]
pub struct LogSender {
    recent: Mutex<VecDeque<OutboundMessage>>,
}

const KEEP: usize = 500;

impl Sender for LogSender {
    fn send(&self, msg: OutboundMessage) {
        tracing::info!(channel = msg.channel, to = %msg.to, body = %msg.body, "开发用消息发送器：消息未真正发出");
        if let Ok(mut q) = self.recent.lock() {
            q.push_front(msg);
            q.truncate(KEEP);
        }
    }

    fn recent(&self) -> Vec<OutboundMessage> {
        self.recent.lock().map(|q| q.iter().cloned().collect()).unwrap_or_default()
    }
}
