//! The categories of the contract: what kind of message a verdict says this is.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Number of categories, which is the number of the model's classes: the length of every
/// per-class array (probabilities, weights, counts).
pub const CLASSES: usize = 7;

/// One category of the outside contract. The order is the model's class order and never changes
/// without a new model format version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    None,
    Spam,
    CloseContactRedCode,
    PositiveParcel,
    PaidFastTest,
    MiracleDrug,
    GenericFraud,
}

impl Category {
    /// Every category, in class order.
    pub const ALL: [Category; CLASSES] = [
        Category::None,
        Category::Spam,
        Category::CloseContactRedCode,
        Category::PositiveParcel,
        Category::PaidFastTest,
        Category::MiracleDrug,
        Category::GenericFraud,
    ];

    /// The specific scams: the fraud classes but `generic_fraud`.
    pub const SCAMS: [Category; 4] = [
        Category::CloseContactRedCode,
        Category::PositiveParcel,
        Category::PaidFastTest,
        Category::MiracleDrug,
    ];

    /// The fraud categories: a message detected as one of these counts as fraud.
    pub const FRAUD: [Category; 5] = [
        Category::CloseContactRedCode,
        Category::PositiveParcel,
        Category::PaidFastTest,
        Category::MiracleDrug,
        Category::GenericFraud,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::None => "none",
            Category::Spam => "spam",
            Category::CloseContactRedCode => "close_contact_red_code",
            Category::PositiveParcel => "positive_parcel",
            Category::PaidFastTest => "paid_fast_test",
            Category::MiracleDrug => "miracle_drug",
            Category::GenericFraud => "generic_fraud",
        }
    }

    pub fn is_fraud(self) -> bool {
        !matches!(self, Category::None | Category::Spam)
    }

    /// Position in [`Category::ALL`], which is also the model's class index.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_index(i: usize) -> Option<Category> {
        Category::ALL.get(i).copied()
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Category::ALL.iter().map(|c| c.as_str()).collect();
                format!(
                    "unknown category {s:?} (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_index_matches_order() {
        for (i, c) in Category::ALL.iter().enumerate() {
            assert_eq!(c.as_str().parse::<Category>().unwrap(), *c);
            assert_eq!(c.index(), i);
            assert_eq!(Category::from_index(i), Some(*c));
        }
        assert!("fraud".parse::<Category>().is_err());
        assert_eq!(Category::FRAUD.iter().filter(|c| c.is_fraud()).count(), 5);
        assert!(!Category::Spam.is_fraud());
    }
}
