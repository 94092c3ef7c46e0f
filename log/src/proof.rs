//! Building RFC 9162 inclusion (§2.1.3.1) and consistency (§2.1.4.1) proofs from stored nodes.
//!
//! Each proof hash is the `MTH` of a range of leaves `[start, end)`: either a complete subtree
//! (one [`NodeId`]) or, on the tree's right edge, an incomplete one, whose hash is the
//! right-to-left fold of the complete subtrees it decomposes into (one per set bit of its
//! length, largest first). The walks below follow the RFC's recursions top-down, iteratively,
//! and reverse the result, because the RFC lists proof hashes from the leaf upwards.

use crate::error::Error;
use crate::hash::{Hash, node_hash, split};
use crate::node::NodeId;

/// The leaves `[start, end)` whose `MTH` is one proof hash. `start` is a multiple of the largest
/// power of two not above `end - start`, so the range splits into aligned complete subtrees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u64,
    pub(crate) end: u64,
}

impl Span {
    /// The complete subtrees that make up the span, largest (leftmost) first.
    pub(crate) fn parts(self) -> Parts {
        Parts {
            next: self.start,
            remaining: self.end - self.start,
        }
    }

    /// The span's `MTH`: its parts' hashes folded right to left.
    pub(crate) fn hash(self, get: &mut impl FnMut(NodeId) -> Option<Hash>) -> Result<Hash, Error> {
        let mut acc: Option<Hash> = None;
        for id in self.parts().rev() {
            let h = get(id).ok_or(Error::MissingNode(id))?;
            acc = Some(match acc {
                None => h,
                Some(right) => node_hash(&h, &right),
            });
        }
        // Spans are never empty (start < end), so at least one part was folded.
        acc.ok_or(Error::MissingNode(NodeId::leaf(self.start)))
    }
}

/// Iterator over a span's complete subtrees (see [`Span::parts`]).
pub(crate) struct Parts {
    next: u64,
    remaining: u64,
}

impl Iterator for Parts {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        if self.remaining == 0 {
            return None;
        }
        let level = 63 - self.remaining.leading_zeros();
        let size = 1u64 << level;
        let id = NodeId {
            level: level as u8,
            index: self.next >> level,
        };
        // next + remaining is the span's end, a u64, so neither overflows.
        self.next += size;
        self.remaining -= size;
        Some(id)
    }
}

impl DoubleEndedIterator for Parts {
    fn next_back(&mut self) -> Option<NodeId> {
        if self.remaining == 0 {
            return None;
        }
        let level = self.remaining.trailing_zeros();
        self.remaining -= 1u64 << level;
        let start = self.next + self.remaining;
        Some(NodeId {
            level: level as u8,
            index: start >> level,
        })
    }
}

/// Calls `f` with the spans of `PATH(index, D[size])`, root end first (the reverse of the proof
/// order). Needs `index < size`.
fn walk_inclusion(index: u64, size: u64, mut f: impl FnMut(Span)) {
    let (mut lo, mut hi) = (0u64, size);
    while hi - lo > 1 {
        let mid = lo + split(hi - lo);
        if index < mid {
            // PATH(m, D[0:k]) : MTH(D[k:n])
            f(Span {
                start: mid,
                end: hi,
            });
            hi = mid;
        } else {
            // PATH(m - k, D[k:n]) : MTH(D[0:k])
            f(Span {
                start: lo,
                end: mid,
            });
            lo = mid;
        }
    }
}

/// Calls `f` with the spans of `PROOF(old, D[new])`, root end first. Needs `0 < old < new`.
fn walk_consistency(old: u64, new: u64, mut f: impl FnMut(Span)) {
    // Invariant: lo < old <= hi, so while old < hi the range holds at least two leaves.
    let (mut lo, mut hi, mut whole) = (0u64, new, true);
    while old < hi {
        let mid = lo + split(hi - lo);
        if old <= mid {
            // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            f(Span {
                start: mid,
                end: hi,
            });
            hi = mid;
        } else {
            // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            f(Span {
                start: lo,
                end: mid,
            });
            lo = mid;
            whole = false;
        }
    }
    // SUBPROOF(m, D[m], b): nothing when the old tree is this whole subtree (the verifier has
    // its root), else the subtree's hash.
    if !whole {
        f(Span { start: lo, end: hi });
    }
}

fn check_index(index: u64, size: u64) -> Result<(), Error> {
    if index < size {
        Ok(())
    } else {
        Err(Error::IndexOutOfRange { index, size })
    }
}

fn check_sizes(old: u64, new: u64) -> Result<(), Error> {
    if old == 0 || old > new {
        Err(Error::SizeOutOfRange { old, new })
    } else {
        Ok(())
    }
}

/// The spans of the inclusion proof of leaf `index` in a tree of `size`, in proof order.
pub(crate) fn inclusion_spans(index: u64, size: u64) -> Result<Vec<Span>, Error> {
    check_index(index, size)?;
    let mut spans = Vec::with_capacity(64);
    walk_inclusion(index, size, |s| spans.push(s));
    spans.reverse();
    Ok(spans)
}

/// The number of hashes in the inclusion proof of leaf `index` in a tree of `size`.
pub(crate) fn inclusion_len(index: u64, size: u64) -> Result<usize, Error> {
    check_index(index, size)?;
    let mut n = 0;
    walk_inclusion(index, size, |_| n += 1);
    Ok(n)
}

/// The spans of the consistency proof between sizes `old` and `new`, in proof order.
fn consistency_spans(old: u64, new: u64) -> Result<Vec<Span>, Error> {
    check_sizes(old, new)?;
    let mut spans = Vec::with_capacity(66);
    if old < new {
        walk_consistency(old, new, |s| spans.push(s));
    }
    spans.reverse();
    Ok(spans)
}

/// The number of hashes in the consistency proof between sizes `old` and `new`.
pub(crate) fn consistency_len(old: u64, new: u64) -> Result<usize, Error> {
    check_sizes(old, new)?;
    let mut n = 0;
    if old < new {
        walk_consistency(old, new, |_| n += 1);
    }
    Ok(n)
}

/// The complete nodes whose hashes make up the RFC 9162 §2.1.3.1 inclusion path of leaf `index`
/// in a tree of `size` leaves, in proof order; a proof hash on the tree's incomplete right edge
/// contributes its complete parts, largest first. Every node returned has `end() <= size`, so
/// a store can load exactly these in one query and pass them to [`inclusion_proof`].
pub fn inclusion_nodes(index: u64, size: u64) -> Result<Vec<NodeId>, Error> {
    Ok(inclusion_spans(index, size)?
        .into_iter()
        .flat_map(Span::parts)
        .collect())
}

/// The RFC 9162 §2.1.3.1 inclusion proof (`PATH`) of leaf `index` in a tree of `size` leaves,
/// with node hashes supplied by `get` (which returns `None` for a node it does not know, giving
/// [`Error::MissingNode`]). `get` is asked only for the nodes of [`inclusion_nodes`].
pub fn inclusion_proof(
    index: u64,
    size: u64,
    mut get: impl FnMut(NodeId) -> Option<Hash>,
) -> Result<Vec<Hash>, Error> {
    inclusion_spans(index, size)?
        .into_iter()
        .map(|span| span.hash(&mut get))
        .collect()
}

/// The complete nodes whose hashes make up the RFC 9162 §2.1.4.1 consistency proof between
/// tree sizes `old` and `new` (`0 < old <= new`; `old == new` gives none), in proof order, as
/// for [`inclusion_nodes`].
pub fn consistency_nodes(old: u64, new: u64) -> Result<Vec<NodeId>, Error> {
    Ok(consistency_spans(old, new)?
        .into_iter()
        .flat_map(Span::parts)
        .collect())
}

/// The RFC 9162 §2.1.4.1 consistency proof (`PROOF(old, D[new])`) between tree sizes `old` and
/// `new` (`0 < old <= new`; `old == new` gives an empty proof), with node hashes supplied by
/// `get` as for [`inclusion_proof`].
pub fn consistency_proof(
    old: u64,
    new: u64,
    mut get: impl FnMut(NodeId) -> Option<Hash>,
) -> Result<Vec<Hash>, Error> {
    consistency_spans(old, new)?
        .into_iter()
        .map(|span| span.hash(&mut get))
        .collect()
}

#[cfg(test)]
mod tests;
