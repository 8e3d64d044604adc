//! What is sent and what comes back.

use bytes::Bytes;
pub use kwire_codec::record::RecordHeader;

/// A record to send. A null key and an empty key are different, and so are a null value
/// (a tombstone) and an empty value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// The key, or null.
    pub key: Option<Bytes>,
    /// The value, or null.
    pub value: Option<Bytes>,
    /// Headers, in order; keys may repeat.
    pub headers: Vec<RecordHeader>,
    /// The partition, or `None` to let the partitioner choose.
    pub partition: Option<i32>,
    /// Timestamp in ms since the epoch, or `None` for the time of sending.
    pub timestamp: Option<i64>,
}

impl Record {
    /// A record with only a value.
    pub fn value(value: impl Into<Bytes>) -> Self {
        Record {
            value: Some(value.into()),
            ..Default::default()
        }
    }

    /// Sets the key.
    pub fn with_key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Adds a header.
    pub fn with_header(mut self, key: impl Into<String>, value: Option<Bytes>) -> Self {
        self.headers.push(RecordHeader {
            key: key.into(),
            value,
        });
        self
    }

    /// Sets the partition, bypassing the partitioner.
    pub fn with_partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }
}

/// Where a record landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The record's offset, or -1 with `acks=0`.
    pub offset: i64,
    /// The record's timestamp: the broker's append time on LogAppendTime topics, else the
    /// create time that was sent.
    pub timestamp: i64,
}
