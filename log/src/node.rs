//! Naming the complete subtrees of the tree, and which stored nodes make up one.

use std::fmt;
use std::ops::Range;

/// A complete, aligned subtree: the `2^level` leaves `[index << level, (index + 1) << level)`.
///
/// Level 0 nodes are leaves. A node exists in a tree of `size` leaves once `end() <= size`, and
/// its hash never changes after that: this is what the server stores. Levels above 64 lie
/// outside any tree a `u64` can count; the methods below saturate rather than panic on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves: the subtree has `2^level` leaves.
    pub level: u8,
    /// Position among the nodes of that level, from the left.
    pub index: u64,
}

/// `v << shift`, saturated to `u64::MAX`. `v` is at most `2^64`.
fn shl_saturating(v: u128, shift: u32) -> u64 {
    if v == 0 {
        0
    } else if shift >= 64 {
        u64::MAX
    } else {
        // v <= 2^64 and shift <= 63, so v << shift < 2^128.
        u64::try_from(v << shift).unwrap_or(u64::MAX)
    }
}

impl NodeId {
    /// The leaf at `index`.
    pub fn leaf(index: u64) -> Self {
        Self { level: 0, index }
    }

    /// The first leaf index the subtree covers (saturating at `u64::MAX`).
    pub fn start(&self) -> u64 {
        shl_saturating(u128::from(self.index), u32::from(self.level))
    }

    /// One past the last leaf index the subtree covers (exclusive, saturating at `u64::MAX`).
    pub fn end(&self) -> u64 {
        shl_saturating(u128::from(self.index) + 1, u32::from(self.level))
    }

    /// The left and right halves, or `None` for a leaf (and for nodes whose children's indices
    /// would not fit in a `u64`, which lie outside every tree).
    pub fn children(&self) -> Option<(NodeId, NodeId)> {
        let level = self.level.checked_sub(1)?;
        let left = self.index.checked_mul(2)?;
        let right = left.checked_add(1)?;
        Some((
            NodeId { level, index: left },
            NodeId {
                level,
                index: right,
            },
        ))
    }

    /// The node one level up that contains this one (the level saturates at 255).
    pub fn parent(&self) -> NodeId {
        NodeId {
            level: self.level.saturating_add(1),
            index: self.index >> 1,
        }
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "node (level {}, index {}) covering leaves [{}, {})",
            self.level,
            self.index,
            self.start(),
            self.end()
        )
    }
}

/// Which stored nodes make up node `id` when only levels that are multiples of `stride` are
/// stored (leaf hashes at level 0 always are).
///
/// Returns the stored level, `floor(id.level / stride) * stride`, and the contiguous indices at
/// that level whose [`fold_complete`](crate::fold_complete) is `id`'s hash: one node if `id` is
/// itself at a stored level, else `2^(id.level - stored level)` of them. With `stride` 8 a
/// server keeps one row per 256 leaves above the leaves and reads at most 128 rows per missing
/// node. A `stride` of 0 is taken as 1 (every level stored).
pub fn stored_cover(id: NodeId, stride: u8) -> (u8, Range<u64>) {
    let stride = stride.max(1);
    let level = id.level - id.level % stride;
    let shift = u32::from(id.level - level);
    let start = shl_saturating(u128::from(id.index), shift);
    let end = shl_saturating(u128::from(id.index) + 1, shift);
    (level, start..end)
}

#[cfg(test)]
mod tests;
