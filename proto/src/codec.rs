//! The codec of every `axis.v1` method: prost encoding (as `tonic_prost::ProstCodec`) with a
//! smaller encode buffer than tonic's default.
//!
//! tonic gives each response stream one encode buffer for the stream's whole life, allocated
//! at [`BufferSettings`]' `buffer_size` when the stream opens and grown (by doubling) to hold
//! the messages ready at once, up to `yield_threshold` plus one message; it never shrinks (a
//! `BytesMut` reuses its whole allocation once the frames sent from it are dropped). A
//! `Subscribe` stream stays open for days and is idle most of the time, so with tonic's
//! defaults (8 KiB, 32 KiB) every connected agency kept 8 KiB from the start and up to about
//! twice 32 KiB after a backlog was pushed to it. The settings here start at 1 KiB and yield
//! at 8 KiB, and the encoder reserves each message's length before writing it: an idle
//! subscriber keeps 1 KiB, and after any push about 8 KiB plus its largest delivery
//! (`tests/encode_buffer.rs` counts it; BENCHMARKS.md has the figures). Releasing the buffer
//! outright after a large message is not possible from a codec in tonic 0.14 (the encoder sees
//! the buffer only through `EncodeBuf`, which can grow it, not replace it), so the node serves
//! `Subscribe` with [`crate::unbuffered`] instead, which keeps no buffer; these settings bound
//! every other stream.
//!
//! Decoding keeps tonic's defaults: request streams are short-lived.
use std::marker::PhantomData;

use prost::Message;
use tonic::Status;
use tonic::codec::{BufferSettings, Codec, EncodeBuf, Encoder};
use tonic_prost::{ProstDecoder, ProstEncoder};

/// Initial capacity of a stream's encode buffer (tonic's default: 8 KiB).
pub const ENCODE_BUFFER_SIZE: usize = 1024;
/// Ready messages are batched into one frame up to this many octets (tonic's default: 32 KiB).
pub const ENCODE_YIELD_THRESHOLD: usize = 8 * 1024;

/// The buffer settings of every `axis.v1` encoder.
#[must_use]
pub fn encode_buffer_settings() -> BufferSettings {
    BufferSettings::new(ENCODE_BUFFER_SIZE, ENCODE_YIELD_THRESHOLD)
}

/// A [`Codec`] that encodes and decodes `axis.v1` messages with prost, encoding with
/// [`encode_buffer_settings`]. The generated clients and servers use it for every method.
#[derive(Debug, Clone)]
pub struct AxisCodec<T, U> {
    _pd: PhantomData<(T, U)>,
}

impl<T, U> Default for AxisCodec<T, U> {
    fn default() -> Self {
        Self { _pd: PhantomData }
    }
}

impl<T, U> Codec for AxisCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = AxisEncoder<T>;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        AxisEncoder(ProstEncoder::new(encode_buffer_settings()))
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstDecoder::new(BufferSettings::default())
    }
}

/// prost's encoder, reserving each message's whole length before writing it: the buffer then
/// grows once, to about what the message needs, rather than doubling on each field that does
/// not fit (from a 1 KiB start, a 10 KB delivery left 18.9 KB allocated without it).
#[derive(Debug, Clone)]
pub struct AxisEncoder<T>(ProstEncoder<T>);

impl<T: Message> Encoder for AxisEncoder<T> {
    type Item = T;
    type Error = Status;

    fn encode(&mut self, item: T, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.reserve(item.encoded_len());
        self.0.encode(item, dst)
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.0.buffer_settings()
    }
}
