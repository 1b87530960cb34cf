//! Scroll depth per page view: the deepest point seen, milestone crossings at 25/50/75/100 %,
//! and a final summary, instead of one event per scroll tick.

/// Milestones in percent of page height, in the order they are reported.
pub const MILESTONES: [u32; 4] = [25, 50, 75, 100];

#[derive(Debug, Default, Clone)]
pub struct ScrollDepth {
    pub max_depth_px: u32,
    pub max_depth_pct: u32,
    pub page_height: u32,
    /// Bit i set once MILESTONES[i] was reported.
    reported: u8,
}

impl ScrollDepth {
    /// Records one observation: `depth_px` is the viewport's bottom edge in page pixels.
    /// Returns the milestones crossed for the first time (ascending); a jump to the bottom
    /// crosses all of them at once.
    pub fn observe(
        &mut self,
        depth_px: u32,
        page_height: u32,
    ) -> impl Iterator<Item = u32> + use<> {
        self.page_height = page_height;
        self.max_depth_px = self.max_depth_px.max(depth_px);
        self.max_depth_pct = percent(self.max_depth_px, page_height);
        let mut crossed = 0u8;
        for (index, milestone) in MILESTONES.iter().enumerate() {
            let bit = 1 << index;
            if self.max_depth_pct >= *milestone && self.reported & bit == 0 {
                self.reported |= bit;
                crossed |= bit;
            }
        }
        MILESTONES
            .into_iter()
            .enumerate()
            .filter(move |(index, _)| crossed & (1 << index) != 0)
            .map(|(_, m)| m)
    }
}

/// `depth` as a whole percentage of `height`, 0..=100 (100 for an empty page).
pub fn percent(depth: u32, height: u32) -> u32 {
    if height == 0 {
        return 100;
    }
    ((u64::from(depth) * 100 / u64::from(height)) as u32).min(100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn reports_each_milestone_once_in_order() {
        let mut depth = ScrollDepth::default();
        assert_eq!(
            depth.observe(800, 4000).collect::<Vec<_>>(),
            Vec::<u32>::new()
        );
        assert_eq!(depth.observe(1000, 4000).collect::<Vec<_>>(), [25]);
        assert_eq!(
            depth.observe(1100, 4000).collect::<Vec<_>>(),
            Vec::<u32>::new()
        );
        // Scrolling up never lowers the maximum.
        assert_eq!(
            depth.observe(300, 4000).collect::<Vec<_>>(),
            Vec::<u32>::new()
        );
        assert_eq!(depth.max_depth_px, 1100);
        assert_eq!(depth.observe(4000, 4000).collect::<Vec<_>>(), [50, 75, 100]);
        assert_eq!(
            depth.observe(4000, 4000).collect::<Vec<_>>(),
            Vec::<u32>::new()
        );
        assert_eq!(depth.max_depth_pct, 100);
    }

    #[test]
    fn percent_is_clamped() {
        assert_eq!(percent(5000, 4000), 100);
        assert_eq!(percent(1, 0), 100);
        assert_eq!(percent(1999, 4000), 49);
    }
}
