//! Partitioners: which partition of a topic a record goes to.
//!
//! The default is [`LeastBytes`], the rule of kafka-go's `LeastBytes` balancer applied per
//! topic: each partition has a counter of the key and value bytes given to it; a record goes
//! to the partition with the smallest counter (ties to the lowest partition number), and its
//! key and value lengths are then added to that counter. The producer calls the partitioner
//! in the order records are sent, so the assignment is deterministic.

use std::collections::HashMap;
use std::sync::Mutex;

/// Chooses a partition for a record.
pub trait Partitioner: Send + Sync + std::fmt::Debug {
    /// The partition (from 0 to `partitions - 1`) for a record with `key` and `value` on
    /// `topic`, which has `partitions` partitions (at least one).
    fn partition(
        &self,
        topic: &str,
        partitions: u32,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
    ) -> u32;
}

/// Sends each record to the partition of its topic that has been given the fewest key and
/// value bytes so far; ties go to the lowest partition number.
///
/// Counters start at zero for a topic the partitioner has not seen. If a topic gains
/// partitions, the new ones start at zero (and so receive records until they catch up); if
/// it loses partitions, the counters of the missing ones are dropped.
#[derive(Debug, Default)]
pub struct LeastBytes {
    counters: Mutex<HashMap<String, Vec<u64>>>,
}

impl LeastBytes {
    /// A partitioner with every counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// The byte counters of `topic`, one per partition (empty for an unseen topic).
    pub fn counters(&self, topic: &str) -> Vec<u64> {
        let counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        counters.get(topic).cloned().unwrap_or_default()
    }
}

impl Partitioner for LeastBytes {
    fn partition(
        &self,
        topic: &str,
        partitions: u32,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
    ) -> u32 {
        let mut all = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let counters = match all.get_mut(topic) {
            Some(c) => c,
            None => all.entry(topic.to_owned()).or_default(),
        };
        counters.resize(partitions.max(1) as usize, 0);
        let mut best = 0;
        for (i, &bytes) in counters.iter().enumerate() {
            if bytes < counters[best] {
                best = i;
            }
        }
        let size = key.map_or(0, <[u8]>::len) + value.map_or(0, <[u8]>::len);
        counters[best] += size as u64;
        best as u32
    }
}

/// Sends records to partitions 0, 1, 2, … in turn, per topic.
#[derive(Debug, Default)]
pub struct RoundRobin {
    next: Mutex<HashMap<String, u32>>,
}

impl RoundRobin {
    /// A partitioner that starts every topic at partition 0.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Partitioner for RoundRobin {
    fn partition(
        &self,
        topic: &str,
        partitions: u32,
        _key: Option<&[u8]>,
        _value: Option<&[u8]>,
    ) -> u32 {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let n = next.entry(topic.to_owned()).or_insert(0);
        let chosen = *n % partitions.max(1);
        *n = chosen + 1;
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assign(p: &LeastBytes, topic: &str, partitions: u32, sizes: &[usize]) -> Vec<u32> {
        sizes
            .iter()
            .map(|&n| p.partition(topic, partitions, None, Some(&vec![b'x'; n])))
            .collect()
    }

    #[test]
    fn a_fresh_topic_starts_at_partition_zero() {
        let p = LeastBytes::new();
        assert_eq!(assign(&p, "t", 6, &[100]), vec![0]);
    }

    #[test]
    fn equal_sizes_cycle_through_the_partitions_in_order() {
        let p = LeastBytes::new();
        assert_eq!(assign(&p, "t", 3, &[10; 7]), vec![0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn ties_go_to_the_lowest_partition_and_small_records_fill_the_lightest() {
        let p = LeastBytes::new();
        // 0 gets 100; 1 and 2 tie at 0 -> 1; then 2 (0 bytes) -> 2; then 1 (5) < 2 (5)? tie -> 1.
        assert_eq!(assign(&p, "t", 3, &[100, 5, 5, 5, 5]), vec![0, 1, 2, 1, 2]);
        assert_eq!(p.counters("t"), vec![100, 10, 10]);
    }

    #[test]
    fn key_and_value_bytes_both_count_and_null_counts_as_zero() {
        let p = LeastBytes::new();
        assert_eq!(p.partition("t", 2, Some(b"abc"), Some(b"de")), 0);
        assert_eq!(p.partition("t", 2, None, None), 1);
        assert_eq!(p.partition("t", 2, Some(b""), None), 1);
        assert_eq!(p.counters("t"), vec![5, 0]);
    }

    #[test]
    fn two_topics_never_disturb_each_others_counters() {
        let p = LeastBytes::new();
        assert_eq!(assign(&p, "a", 3, &[50, 50]), vec![0, 1]);
        assert_eq!(assign(&p, "b", 3, &[7]), vec![0]);
        assert_eq!(assign(&p, "a", 3, &[1]), vec![2]);
        assert_eq!(p.counters("a"), vec![50, 50, 1]);
        assert_eq!(p.counters("b"), vec![7, 0, 0]);
    }

    #[test]
    fn new_partitions_start_empty() {
        let p = LeastBytes::new();
        assert_eq!(assign(&p, "t", 2, &[10, 10]), vec![0, 1]);
        assert_eq!(assign(&p, "t", 3, &[10, 10]), vec![2, 0]);
    }

    #[test]
    fn round_robin_cycles_per_topic() {
        let p = RoundRobin::new();
        let got: Vec<u32> = (0..4).map(|_| p.partition("t", 3, None, None)).collect();
        assert_eq!(got, vec![0, 1, 2, 0]);
        assert_eq!(p.partition("u", 3, None, None), 0);
    }
}
