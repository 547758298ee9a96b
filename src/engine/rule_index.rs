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

    fn unite(&mut self, other: &Self) {
        self.0.iter_mut().zip(&other.0).for_each(|(a, b)| *a |= b);
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

/// Per value of one rule, the experts it lets through.
#[derive(Debug)]
struct ValueSets<T> {
    len: usize,
    by_value: HashMap<T, ExpertSet>,
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
        let mut by_value: HashMap<T, ExpertSet> = HashMap::new();
        let mut any = ExpertSet::empty(len);
        for (index, list) in lists.enumerate() {
            if list.is_empty() && empty_is_all {
                any.insert(index);
            }
            for value in list {
                by_value
                    .entry(value.clone())
                    .or_insert_with(|| ExpertSet::empty(len))
                    .insert(index);
            }
        }
        for bits in by_value.values_mut() {
            bits.unite(&any);
        }
        Self { len, by_value, any }
    }

    /// The experts that let `value` through.
    fn admitting(&self, value: &T) -> &ExpertSet {
        self.by_value.get(value).unwrap_or(&self.any)
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
        let mut bits = self.kinds.admitting(&query.partner_kind).clone();
        bits.intersect(self.claim_types.admitting(&query.claim_type));
        bits.intersect(self.expertise_types.admitting(&query.expertise_type));
        bits.intersect(self.insurers.admitting(&query.insurer));
        bits.intersect(self.insured_types.admitting(&query.insured_type));
        if let Some(dwelling) = &query.dwelling_type {
            bits.intersect(self.dwelling_types.admitting(dwelling));
        }
        debug_assert_eq!(bits.0.len(), self.kinds.len.div_ceil(64));
        bits
    }

    /// Whether expert `index` takes the stake of `query`.
    pub fn takes_stake(&self, index: usize, query: &Query) -> bool {
        self.max_stakes[index].is_none_or(|max| query.stake_total <= max)
    }
}
