//! Paging of long lists.

use serde::{Deserialize, Serialize};

const DEFAULT_SIZE: u64 = 20;
const MIN_SIZE: u64 = 10;
const MAX_SIZE: u64 = 100;

/// A 1-based page request, already clamped to sane values so that query strings cannot ask for
/// page 0 or a million rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub number: u64,
    pub size: u64,
}

impl Page {
    pub fn new(number: Option<u64>, size: Option<u64>) -> Page {
        Page { number: number.unwrap_or(1).max(1), size: size.unwrap_or(DEFAULT_SIZE).clamp(MIN_SIZE, MAX_SIZE) }
    }

    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        (self.number.max(1) - 1).saturating_mul(self.size)
    }

    /// Rows to fetch.
    pub fn limit(&self) -> u64 {
        self.size
    }
}

impl Default for Page {
    fn default() -> Self {
        Page::new(None, None)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: Page,
}

impl<T> Paged<T> {
    pub fn new(items: Vec<T>, total: u64, page: Page) -> Self {
        Self { items, total, page }
    }

    /// Number of pages; an empty list still has one (empty) page to show.
    pub fn pages(&self) -> u64 {
        let size = self.page.size.max(1);
        self.total.div_ceil(size).max(1)
    }

    pub fn has_prev(&self) -> bool {
        self.page.number > 1
    }

    pub fn has_next(&self) -> bool {
        self.page.number < self.pages()
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged { items: self.items.into_iter().map(f).collect(), total: self.total, page: self.page }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn defaults_and_clamping() {
        assert_eq!(Page::new(None, None), Page { number: 1, size: 20 });
        assert_eq!(Page::new(Some(0), Some(5)), Page { number: 1, size: 10 });
        assert_eq!(Page::new(Some(3), Some(1000)), Page { number: 3, size: 100 });
        assert_eq!(Page::new(Some(3), Some(50)).offset(), 100);
        assert_eq!(Page::default().offset(), 0);
        assert_eq!(Page::new(Some(u64::MAX), Some(100)).offset(), u64::MAX);
    }

    #[test]
    fn page_counts() {
        let p = |n, total| Paged::<()>::new(vec![], total, Page::new(Some(n), Some(10)));
        assert_eq!(p(1, 0).pages(), 1);
        assert_eq!(p(1, 10).pages(), 1);
        assert_eq!(p(1, 11).pages(), 2);
        assert!(!p(1, 11).has_prev());
        assert!(p(1, 11).has_next());
        assert!(p(2, 11).has_prev());
        assert!(!p(2, 11).has_next());
        assert!(!p(1, 0).has_next());
    }

    #[test]
    fn map_keeps_paging() {
        let paged = Paged::new(vec![1, 2], 12, Page::new(Some(2), Some(10)));
        let mapped = paged.map(|x| x * 10);
        assert_eq!(mapped.items, vec![10, 20]);
        assert_eq!(mapped.total, 12);
        assert_eq!(mapped.page.number, 2);
    }

    proptest! {
        #[test]
        fn pages_cover_total(total in 0u64..1_000_000, number in proptest::option::of(0u64..1000), size in proptest::option::of(0u64..500)) {
            let page = Page::new(number, size);
            prop_assert!(page.number >= 1);
            prop_assert!((10..=100).contains(&page.size));
            let paged = Paged::<()>::new(vec![], total, page);
            let pages = paged.pages();
            prop_assert!(pages >= 1);
            prop_assert!(pages * page.size >= total);
            prop_assert!(total == 0 || (pages - 1) * page.size < total);
            prop_assert_eq!(paged.has_next(), page.number < pages);
        }
    }
}
