//! The eligibility rules that do not depend on the place, as bit sets over the directory.
//!
//! Checking skills, accept-lists and stake expert by expert reads every candidate's
//! profile (lists of strings behind pointers): most of an on-site search's time on a large
//! directory. Here each value a rule can ask about (a claim type, an expertise type, an
//! insurer...) has the set of experts it lets through, made once per directory; a request
//! intersects a handful of them, a few machine words per 64 experts, and only the stake
//! is read per candidate, from one contiguous list.
//!
//! It gives exactly what [`fails_before_zone`](super::eligibility::fails_before_zone) gives
//! (checked in debug builds); the latter still explains an empty answer.

use std::collections::HashMap;
use std::hash::Hash;

use super::expert::ExpertEntry;
use super::query::Query;
use crate::domain::expert::ExpertProfile;
use crate::domain::{ClaimType, Code, ExpertiseType, InsuredType, Insurer, Money, PartnerKind};

/// A set of expert indexes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Bits(Vec<u64>);

impl Bits {
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
struct Sets<T> {
    len: usize,
    by_value: HashMap<T, Bits>,
    /// The experts whose list is empty (accept-lists: "all"); for a skill list, nobody.
    any: Bits,
}

impl<T: Hash + Eq + Clone> Sets<T> {
    /// `lists` gives each expert's list; `empty_is_all` says whether an empty list
    /// accepts every value (accept-lists) or none (skills).
    fn new<'a>(len: usize, lists: impl Iterator<Item = &'a [T]>, empty_is_all: bool) -> Self
    where
        T: 'a,
    {
        let mut by_value: HashMap<T, Bits> = HashMap::new();
        let mut any = Bits::empty(len);
        for (index, list) in lists.enumerate() {
            if list.is_empty() && empty_is_all {
                any.insert(index);
            }
            for value in list {
                by_value
                    .entry(value.clone())
                    .or_insert_with(|| Bits::empty(len))
                    .insert(index);
            }
        }
        for bits in by_value.values_mut() {
            bits.unite(&any);
        }
        Self { len, by_value, any }
    }

    /// The experts that let `value` through.
    fn admitting(&self, value: &T) -> &Bits {
        self.by_value.get(value).unwrap_or(&self.any)
    }
}

impl Default for AcceptIndex {
    fn default() -> Self {
        Self::new(&[])
    }
}

/// The place-independent eligibility rules of every expert of a directory.
#[derive(Debug)]
pub(crate) struct AcceptIndex {
    /// Active experts, per partner kind.
    kinds: Sets<PartnerKind>,
    claim_types: Sets<ClaimType>,
    expertise_types: Sets<ExpertiseType>,
    insurers: Sets<Insurer>,
    insured_types: Sets<InsuredType>,
    dwelling_types: Sets<Code>,
    /// Per expert, the highest stake taken.
    max_stakes: Vec<Option<Money>>,
}

impl AcceptIndex {
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
            kinds: Sets::new(len, profiles().map(kind), false),
            claim_types: Sets::new(len, profiles().map(|p| &p.skills.claim_types[..]), false),
            expertise_types: Sets::new(
                len,
                profiles().map(|p| &p.skills.expertise_types[..]),
                false,
            ),
            insurers: Sets::new(len, profiles().map(|p| &p.skills.insurers[..]), true),
            insured_types: Sets::new(len, profiles().map(|p| &p.skills.insured_types[..]), true),
            dwelling_types: Sets::new(len, profiles().map(|p| &p.skills.dwelling_types[..]), true),
            max_stakes: profiles().map(|p| p.skills.max_stake).collect(),
        }
    }

    /// The experts that pass every rule of `query` but the stake and the zone.
    pub fn admitting(&self, query: &Query) -> Bits {
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
