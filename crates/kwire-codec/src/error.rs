//! Errors raised while encoding or decoding protocol bytes.
//!
//! A [`DecodeError`] always says where decoding stopped (byte offset in the input) and what
//! was being read (message, version and field), because the bytes it reports on usually came
//! from a peer that the caller does not control.

use std::fmt;

/// What went wrong while decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended before the field was complete.
    #[error("needed {needed} more bytes but only {remaining} remain")]
    Truncated {
        /// Bytes the field needed.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A length or count was negative (other than the null marker) or larger than the
    /// remaining input could hold.
    #[error("invalid length {length} with {remaining} bytes remaining")]
    InvalidLength {
        /// The length as read from the wire.
        length: i64,
        /// Bytes that were left when it was read.
        remaining: usize,
    },
    /// A null marker where the schema does not allow null.
    #[error("null is not allowed here")]
    UnexpectedNull,
    /// A varint ran past its maximum size.
    #[error("varint is longer than {max_bytes} bytes")]
    VarintTooLong {
        /// The most bytes this varint type may take.
        max_bytes: usize,
    },
    /// A string was not valid UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// Bytes were left after the structure ended.
    #[error("{remaining} bytes left over after the end")]
    TrailingBytes {
        /// How many bytes were left.
        remaining: usize,
    },
    /// The message version is not one this codec knows.
    #[error("version {version} is not supported (supported: {min}..={max})")]
    UnsupportedVersion {
        /// The version asked for.
        version: i16,
        /// Lowest supported version.
        min: i16,
        /// Highest supported version.
        max: i16,
    },
    /// The API key is not one this codec knows.
    #[error("API key {0} is not supported")]
    UnknownApiKey(i16),
    /// A record batch's magic byte was not 2.
    #[error("record batch magic {0} is not supported (only magic 2)")]
    UnsupportedMagic(i8),
    /// A record batch's CRC-32C did not match its contents.
    #[error("CRC-32C mismatch: batch says {expected:#010x}, contents give {actual:#010x}")]
    CrcMismatch {
        /// The CRC stored in the batch.
        expected: u32,
        /// The CRC of the bytes.
        actual: u32,
    },
    /// A compressed batch, which this build cannot decompress.
    #[error("batch is compressed with {0}, and compression support is not enabled in this build")]
    CompressionNotEnabled(&'static str),
    /// A compression code outside 0..=4.
    #[error("unknown compression code {0}")]
    UnknownCompression(u8),
    /// A compressed records section would decompress to more than the caller's limit, so
    /// decompression stopped there (a guard against decompression bombs).
    #[error("{codec} records decompress to more than the limit of {limit} bytes")]
    DecompressedTooLarge {
        /// The codec.
        codec: &'static str,
        /// The limit in force, in bytes.
        limit: usize,
    },
    /// A compressed records section is not a valid stream of its codec.
    #[error("{codec} records cannot be decompressed: {detail}")]
    Decompression {
        /// The codec.
        codec: &'static str,
        /// What the codec library or the framing check reported.
        detail: String,
    },
    /// A value was encoded in a longer form than Kafka writes (a varint with a redundant
    /// trailing zero byte, a boolean other than 0 or 1). Rejected so that every accepted
    /// input re-encodes to the same bytes.
    #[error("non-canonical encoding: {0}")]
    NonCanonical(&'static str),
    /// A value broke a rule of the format (for example a record count that does not match the
    /// last offset delta).
    #[error("{0}")]
    Invalid(&'static str),
}

/// A decoding failure: what went wrong, where, and while reading what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// What went wrong.
    pub kind: DecodeErrorKind,
    /// Offset in the input at which the failing field starts.
    pub offset: usize,
    /// The field being read, in the Kafka schema's snake_case names
    /// (`partition_responses.base_offset`).
    pub field: &'static str,
    /// The message being read (`ProduceResponse`), when known.
    pub message: Option<&'static str>,
    /// The version of that message, when known.
    pub version: Option<i16>,
}

impl DecodeError {
    /// An error of `kind` at `offset` while reading `field`.
    pub fn new(kind: DecodeErrorKind, offset: usize, field: &'static str) -> Self {
        DecodeError {
            kind,
            offset,
            field,
            message: None,
            version: None,
        }
    }

    /// Adds the message name and version, unless an inner layer already set them.
    pub fn in_message(mut self, message: &'static str, version: i16) -> Self {
        if self.message.is_none() {
            self.message = Some(message);
            self.version = Some(version);
        }
        self
    }

    /// Shifts the offset by `base`, for errors from a slice inside a larger input.
    pub fn shifted(mut self, base: usize) -> Self {
        self.offset += base;
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.message, self.version) {
            (Some(m), Some(v)) => write!(f, "decoding {m} v{v}, ")?,
            (Some(m), None) => write!(f, "decoding {m}, ")?,
            _ => write!(f, "decoding, ")?,
        }
        write!(
            f,
            "field `{}` at byte {}: {}",
            self.field, self.offset, self.kind
        )
    }
}

impl std::error::Error for DecodeError {}

/// An encoding failure: the value cannot be written at the requested version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The version is outside what this codec (or the message) supports.
    #[error("{message} v{version} is not supported (supported: {min}..={max})")]
    UnsupportedVersion {
        /// The message.
        message: &'static str,
        /// The version asked for.
        version: i16,
        /// Lowest supported version.
        min: i16,
        /// Highest supported version.
        max: i16,
    },
    /// A field holds a value that this version cannot carry (for example a null topic name
    /// before Metadata v10, or a topic id in a Produce request before v13).
    #[error("{message} v{version} cannot carry field `{field}`: {reason}")]
    FieldNotRepresentable {
        /// The message.
        message: &'static str,
        /// The version asked for.
        version: i16,
        /// The field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A string, byte field or array is longer than its length prefix can express.
    #[error("field `{field}` is {len} long, more than its length prefix can express")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// A batch asks for a compression codec whose cargo feature is not enabled in this build.
    #[error("compression {0} is not enabled in this build (enable kwire-codec's `{0}` feature)")]
    CompressionNotEnabled(&'static str),
    /// A batch's attributes carry a compression code outside 0..=4.
    #[error("unknown compression code {0}")]
    UnknownCompression(u8),
    /// The compressor itself failed (in practice only when it cannot allocate its state).
    #[error("{codec} compression failed: {detail}")]
    Compression {
        /// The codec.
        codec: &'static str,
        /// What the codec library reported.
        detail: String,
    },
}
