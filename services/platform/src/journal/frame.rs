//! The on-disk framing of journal records and snapshots: `[length u32 LE][crc32 u32 LE][payload]`.
//! A frame whose header or payload is cut short, or whose checksum does not match, ends the
//! readable part of a journal (a torn write at the tail of a crash); so does a zero length: the
//! journal file is filled with zeros ahead of its end (see `writer.rs`), and a record is never
//! empty.

use serde::Serialize;

/// Bytes of a frame header.
pub const HEADER: usize = 8;

/// Appends `value` to `buffer` as one frame.
pub fn encode_into<T: Serialize + ?Sized>(buffer: &mut Vec<u8>, value: &T) -> anyhow::Result<()> {
    let start = buffer.len();
    buffer.extend_from_slice(&[0; HEADER]);
    let taken = std::mem::take(buffer);
    *buffer = match postcard::to_extend(value, taken) {
        Ok(extended) => extended,
        Err(error) => anyhow::bail!("cannot encode a journal record: {error}"),
    };
    let payload = buffer.get(start + HEADER..).unwrap_or_default();
    anyhow::ensure!(!payload.is_empty(), "an empty journal record");
    let length =
        u32::try_from(payload.len()).map_err(|_| anyhow::anyhow!("a journal record over 4 GiB"))?;
    let checksum = crc32fast::hash(payload);
    let header = buffer
        .get_mut(start..start + HEADER)
        .ok_or_else(|| anyhow::anyhow!("frame header out of bounds"))?;
    header[..4].copy_from_slice(&length.to_le_bytes());
    header[4..].copy_from_slice(&checksum.to_le_bytes());
    Ok(())
}

/// The payloads of the whole frames at the start of `bytes`, and how many bytes they span.
pub fn decode_all(bytes: &[u8]) -> (Vec<&[u8]>, usize) {
    let mut payloads = Vec::new();
    let mut offset = 0;
    while let Some((payload, next)) = decode_at(bytes, offset) {
        payloads.push(payload);
        offset = next;
    }
    (payloads, offset)
}

/// The payload of the frame at `offset` and the offset after it, if it is whole and intact.
fn decode_at(bytes: &[u8], offset: usize) -> Option<(&[u8], usize)> {
    let header = bytes.get(offset..offset.checked_add(HEADER)?)?;
    let length = u32::from_le_bytes(header.get(..4)?.try_into().ok()?);
    let checksum = u32::from_le_bytes(header.get(4..)?.try_into().ok()?);
    if length == 0 {
        return None;
    }
    let start = offset + HEADER;
    let end = start.checked_add(usize::try_from(length).ok()?)?;
    let payload = bytes.get(start..end)?;
    (crc32fast::hash(payload) == checksum).then_some((payload, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(values: &[&str]) -> Vec<u8> {
        let mut buffer = Vec::new();
        for value in values {
            encode_into(&mut buffer, value).unwrap_or_else(|e| panic!("{e}"));
        }
        buffer
    }

    fn decoded(bytes: &[u8]) -> (Vec<String>, usize) {
        let (payloads, length) = decode_all(bytes);
        let values = payloads
            .iter()
            .map(|p| postcard::from_bytes::<String>(p).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        (values, length)
    }

    #[test]
    fn whole_frames_decode_in_order() {
        let bytes = framed(&["one", "two", ""]);
        assert_eq!(
            decoded(&bytes),
            (vec!["one".into(), "two".into(), String::new()], bytes.len())
        );
    }

    #[test]
    fn a_torn_tail_ends_the_readable_part() {
        let whole = framed(&["one", "two"]);
        let first = framed(&["one"]).len();
        for cut in first..whole.len() {
            assert_eq!(
                decoded(&whole[..cut]),
                (vec!["one".to_owned()], first),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn zeros_after_the_last_record_end_the_readable_part() {
        let mut bytes = framed(&["one"]);
        let whole = bytes.len();
        bytes.extend_from_slice(&[0; 4096]);
        assert_eq!(decoded(&bytes), (vec!["one".to_owned()], whole));
        assert!(
            encode_into(&mut Vec::new(), &()).is_err(),
            "an empty record would read as the end"
        );
    }

    #[test]
    fn a_flipped_bit_ends_the_readable_part() {
        let mut bytes = framed(&["one", "two"]);
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(decoded(&bytes).0, vec!["one".to_owned()]);
    }
}
