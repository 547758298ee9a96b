//! The eligibility rules that do not depend on the place, as bit sets over the directory.
//!
//! Reading skills and accept-lists expert by expert chases pointers through every
//! candidate's profile; here each rule value has the set of experts it lets through, made
//! once per directory, so a request intersects a handful of bit sets. It agrees with
//! `fails_before_zone` (checked in debug builds), which still explains an empty answer.

use std::collections::HashMap;
use std::hash::Hash;

use super::expert::ExpertEntry;
use super::query::Query;
use crate::domain::expert::ExpertProfile;
use crate::domain::{ClaimType, Code, ExpertiseType, InsuredType, Insurer, Money, PartnerKind};

/// A set of expert indexes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ExpertSet(Vec<u64>);

impl ExpertSet {
    fn empty(len: usize) -> Self {
        Self(vec![0; len.div_ceil(64)])
    }

    fn full(len: usize) -> Self {
        let mut words = vec![u64::MAX; len.div_ceil(64)];
        if let Some(last) = words.last_mut() {
            if len % 64 != 0 {
                *last = (1 << (len % 64)) - 1;
            }
        }
        Self(words)
    }

    fn insert(&mut self, index: usize) {
        self.0[index / 64] |= 1 << (index % 64);
    }

    /// Whether `index` is in the set.
    pub fn contains(&self, index: usize) -> bool {
        self.0
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }

    fn intersect(&mut self, other: &Self) {
        self.0.iter_mut().zip(&other.0).for_each(|(a, b)| *a &= b);
    }

    /// The indexes in the set, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    w * 64 + bit
                })
            })
        })
    }
}

/// The experts one rule value lets through besides those that take every value: a bit set
/// when they are many, their indexes when they are few. A directory holds a set per distinct
/// value, and values unique to one expert (free-text insurers, say) would otherwise cost a
/// bit per expert each, memory growing with the square of the directory.
#[derive(Debug)]
enum Admitted {
    Dense(ExpertSet),
    Sparse(Vec<u32>),
}

/// Per value of one rule, the experts it lets through.
#[derive(Debug)]
struct ValueSets<T> {
    len: usize,
    by_value: HashMap<T, Admitted>,
    /// The experts whose list is empty (accept-lists: "all"); for a skill list, nobody.
    any: ExpertSet,
}

impl<T: Hash + Eq + Clone> ValueSets<T> {
    /// `lists` gives each expert's list; `empty_is_all` says whether an empty list
    /// accepts every value (accept-lists) or none (skills).
    fn new<'a>(len: usize, lists: impl Iterator<Item = &'a [T]>, empty_is_all: bool) -> Self
    where
        T: 'a,
    {
        let mut indexes: HashMap<T, Vec<u32>> = HashMap::new();
        let mut any = ExpertSet::empty(len);
        for (index, list) in lists.enumerate() {
            if list.is_empty() && empty_is_all {
                any.insert(index);
            }
            let index = u32::try_from(index).expect("a directory holds fewer than 2^32 experts");
            for value in list {
                let experts = indexes.entry(value.clone()).or_default();
                if experts.last() != Some(&index) {
                    experts.push(index);
                }
            }
        }
        // Indexes take 32 bits each, a bit set one bit per expert of the directory.
        let by_value = indexes
            .into_iter()
            .map(|(value, mut experts)| {
                let admitted = if experts.len() * 32 < len {
                    experts.shrink_to_fit();
                    Admitted::Sparse(experts)
                } else {
                    let mut bits = any.clone();
                    for &index in &experts {
                        bits.insert(index as usize);
                    }
                    Admitted::Dense(bits)
                };
                (value, admitted)
            })
            .collect();
        Self { len, by_value, any }
    }

    /// Keeps in `bits` only the experts that let `value` through.
    fn restrict(&self, value: &T, bits: &mut ExpertSet) {
        match self.by_value.get(value) {
            None => bits.intersect(&self.any),
            Some(Admitted::Dense(admitted)) => bits.intersect(admitted),
            Some(Admitted::Sparse(experts)) => {
                let mut kept = bits.clone();
                kept.intersect(&self.any);
                for &index in experts {
                    if bits.contains(index as usize) {
                        kept.insert(index as usize);
                    }
                }
                *bits = kept;
            }
        }
    }
}

impl Default for RuleIndex {
    fn default() -> Self {
        Self::new(&[])
    }
}

/// The place-independent eligibility rules of every expert of a directory.
#[derive(Debug)]
pub(crate) struct RuleIndex {
    /// Active experts, per partner kind.
    kinds: ValueSets<PartnerKind>,
    claim_types: ValueSets<ClaimType>,
    expertise_types: ValueSets<ExpertiseType>,
    insurers: ValueSets<Insurer>,
    insured_types: ValueSets<InsuredType>,
    dwelling_types: ValueSets<Code>,
    /// Per expert, the highest stake taken.
    max_stakes: Vec<Option<Money>>,
}

impl RuleIndex {
    /// Indexes `experts` (by position).
    pub fn new(experts: &[ExpertEntry]) -> Self {
        fn kind(p: &ExpertProfile) -> &[PartnerKind] {
            if p.active {
                std::slice::from_ref(&p.partner_kind)
            } else {
                &[]
            }
        }
        let len = experts.len();
        let profiles = || experts.iter().map(|e| &e.profile);
        Self {
            kinds: ValueSets::new(len, profiles().map(kind), false),
            claim_types: ValueSets::new(len, profiles().map(|p| &p.skills.claim_types[..]), false),
            expertise_types: ValueSets::new(
                len,
                profiles().map(|p| &p.skills.expertise_types[..]),
                false,
            ),
            insurers: ValueSets::new(len, profiles().map(|p| &p.skills.insurers[..]), true),
            insured_types: ValueSets::new(
                len,
                profiles().map(|p| &p.skills.insured_types[..]),
                true,
            ),
            dwelling_types: ValueSets::new(
                len,
                profiles().map(|p| &p.skills.dwelling_types[..]),
                true,
            ),
            max_stakes: profiles().map(|p| p.skills.max_stake).collect(),
        }
    }

    /// The experts that pass every rule of `query` but the stake and the zone.
    pub fn admitting(&self, query: &Query) -> ExpertSet {
        let mut bits = ExpertSet::full(self.kinds.len);
        self.kinds.restrict(&query.partner_kind, &mut bits);
        self.claim_types.restrict(&query.claim_type, &mut bits);
        self.expertise_types
            .restrict(&query.expertise_type, &mut bits);
        self.insurers.restrict(&query.insurer, &mut bits);
        self.insured_types.restrict(&query.insured_type, &mut bits);
        if let Some(dwelling) = &query.dwelling_type {
            self.dwelling_types.restrict(dwelling, &mut bits);
        }
        debug_assert_eq!(bits.0.len(), self.kinds.len.div_ceil(64));
        bits
    }

    /// Whether expert `index` takes the stake of `query`.
    pub fn takes_stake(&self, index: usize, query: &Query) -> bool {
        self.max_stakes[index].is_none_or(|max| query.stake_total <= max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(lists: &[Vec<&'static str>], empty_is_all: bool) -> ValueSets<&'static str> {
        ValueSets::new(lists.len(), lists.iter().map(Vec::as_slice), empty_is_all)
    }

    fn admitted(sets: &ValueSets<&'static str>, value: &'static str) -> Vec<usize> {
        let mut bits = ExpertSet::full(sets.len);
        sets.restrict(&value, &mut bits);
        bits.iter().collect()
    }

    #[test]
    fn a_full_set_holds_exactly_the_directory() {
        for len in [0, 1, 63, 64, 65, 130] {
            assert_eq!(ExpertSet::full(len).iter().count(), len);
        }
    }

    #[test]
    fn rare_and_common_values_admit_the_same_experts() {
        // 100 experts: "AXA" listed by every even one (dense), "RARE" by expert 7 alone
        // (sparse), every multiple of 10 accepting all (an empty list).
        let lists: Vec<Vec<&str>> = (0..100)
            .map(|i| match i {
                _ if i % 10 == 0 => vec![],
                7 => vec!["RARE", "RARE"],
                _ if i % 2 == 0 => vec!["AXA"],
                _ => vec!["MAIF"],
            })
            .collect();
        let index = sets(&lists, true);
        assert!(matches!(index.by_value[&"AXA"], Admitted::Dense(_)));
        assert!(matches!(index.by_value[&"RARE"], Admitted::Sparse(_)));
        let all: Vec<usize> = (0..100).step_by(10).collect();
        assert_eq!(
            admitted(&index, "AXA"),
            (0..100).step_by(2).collect::<Vec<_>>()
        );
        let mut rare = all.clone();
        rare.insert(1, 7);
        assert_eq!(admitted(&index, "RARE"), rare);
        assert_eq!(admitted(&index, "UNKNOWN"), all);
        // A skill list: an empty one takes nothing.
        assert_eq!(
            admitted(&sets(&lists, false), "UNKNOWN"),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn values_unique_to_one_expert_take_no_bit_set() {
        let names: Vec<&'static str> = (0..2_000)
            .map(|i| &*Box::leak(format!("INSURER {i}").into_boxed_str()))
            .collect();
        let lists: Vec<Vec<&str>> = names.chunks(2).map(<[&str]>::to_vec).collect();
        let index = sets(&lists, true);
        let dense = index
            .by_value
            .values()
            .filter(|a| matches!(a, Admitted::Dense(_)))
            .count();
        assert_eq!(dense, 0);
        assert_eq!(admitted(&index, "INSURER 1501"), vec![750]);
    }
}
