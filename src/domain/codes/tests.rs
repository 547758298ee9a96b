//! Tests of the enumerations and codes.

use super::*;
use serde_json::{from_value, json, to_value};

fn err_of<T: serde::de::DeserializeOwned + std::fmt::Debug>(v: serde_json::Value) -> String {
    from_value::<T>(v).unwrap_err().to_string()
}

#[test]
fn partner_kinds_serialize_as_expert_and_ren_and_default_to_expert() {
    assert_eq!(to_value(PartnerKind::Expert).unwrap(), json!("EXPERT"));
    assert_eq!(to_value(PartnerKind::Ren).unwrap(), json!("REN"));
    assert_eq!(
        from_value::<PartnerKind>(json!("REN")).unwrap(),
        PartnerKind::Ren
    );
    assert_eq!(PartnerKind::default(), PartnerKind::Expert);
}

#[test]
fn unknown_or_lowercase_enum_values_are_rejected() {
    assert!(from_value::<PartnerKind>(json!("AGENT")).is_err());
    assert!(from_value::<PartnerKind>(json!("expert")).is_err());
    assert!(from_value::<InsuredType>(json!("Pro")).is_err());
    assert!(from_value::<ExpertiseType>(json!("SUR_SITE")).is_err());
}

#[test]
fn insured_types_round_trip_through_json() {
    for (t, s) in [
        (InsuredType::Particulier, "PARTICULIER"),
        (InsuredType::Pro, "PRO"),
    ] {
        assert_eq!(to_value(t).unwrap(), json!(s));
        assert_eq!(from_value::<InsuredType>(json!(s)).unwrap(), t);
    }
}

#[test]
fn only_visio_and_ead_expertises_are_remote() {
    let remote: Vec<_> = ExpertiseType::ALL
        .into_iter()
        .filter(|t| t.is_remote())
        .collect();
    assert_eq!(remote, [ExpertiseType::Visio, ExpertiseType::Ead]);
}

#[test]
fn expertise_names_match_their_json_and_parse_back() {
    for t in ExpertiseType::ALL {
        assert_eq!(to_value(t).unwrap(), json!(t.as_str()));
        assert_eq!(t.to_string().parse::<ExpertiseType>().unwrap(), t);
    }
    assert_eq!(
        ExpertiseType::ALL.map(ExpertiseType::as_str),
        ["VISIO", "EAD", "ESS", "CONTRADICTOIRE"]
    );
}

#[test]
fn parsing_an_unknown_enum_value_lists_the_accepted_ones() {
    let err = "visio".parse::<ExpertiseType>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "must be one of VISIO, EAD, ESS, CONTRADICTOIRE"
    );
    assert_eq!("PRO".parse::<InsuredType>(), Ok(InsuredType::Pro));
    assert_eq!("REN".parse::<PartnerKind>(), Ok(PartnerKind::Ren));
}

#[test]
fn known_and_unknown_claim_type_codes_are_accepted() {
    for code in [
        "DDE",
        "DE",
        "CATNAT",
        "VOL",
        "BRIS_GLACE",
        "X1",
        "ABCDEFGHIJKLMNOPQRST",
    ] {
        assert_eq!(ClaimType::parse(code).unwrap().as_str(), code);
    }
}

#[test]
fn malformed_claim_types_are_rejected() {
    for bad in ["", "dde", "DDE ", "DÉGÂT", "DDE-2", "ABCDEFGHIJKLMNOPQRSTU"] {
        assert_eq!(ClaimType::parse(bad), Err(ClaimTypeError), "{bad:?}");
    }
}

#[test]
fn deserializing_an_invalid_claim_type_fails_with_the_human_message() {
    assert_eq!(
        err_of::<ClaimType>(json!("dde")),
        "must be 1 to 20 characters among A-Z, 0-9 and _"
    );
    assert!(from_value::<ClaimType>(json!(12)).is_err());
    assert_eq!(
        from_value::<ClaimType>(json!("DDE")).unwrap(),
        ClaimType::parse("DDE").unwrap()
    );
}

#[test]
fn codes_allow_thirty_characters_but_not_thirty_one() {
    assert!(Code::parse(&"A".repeat(30)).is_ok());
    assert_eq!(Code::parse(&"A".repeat(31)), Err(CodeError));
    assert_eq!(Code::parse("LOCATAIRE-NON-OCCUPANT"), Err(CodeError));
    assert_eq!(
        to_value(Code::parse("PROPRIETAIRE").unwrap()).unwrap(),
        json!("PROPRIETAIRE")
    );
}

#[test]
fn insurer_names_are_trimmed_and_uppercased_so_axa_equals_axa() {
    let a = Insurer::parse("  Axa ").unwrap();
    assert_eq!(a, Insurer::parse("AXA").unwrap());
    assert_eq!(a.as_str(), "AXA");
    assert_eq!(
        Insurer::parse("Groupama d'Oc").unwrap().to_string(),
        "GROUPAMA D'OC"
    );
    assert_eq!(
        to_value(from_value::<Insurer>(json!("maif")).unwrap()).unwrap(),
        json!("MAIF")
    );
}

#[test]
fn blank_overlong_or_control_insurer_names_are_rejected() {
    assert_eq!(Insurer::parse(" \t "), Err(InsurerError::Empty));
    assert_eq!(
        Insurer::parse("AXA\nFRANCE"),
        Err(InsurerError::ControlCharacter)
    );
    assert!(Insurer::parse(&"é".repeat(64)).is_ok());
    assert_eq!(Insurer::parse(&"é".repeat(65)), Err(InsurerError::TooLong));
    assert_eq!(err_of::<Insurer>(json!("")), "must not be empty");
}

#[test]
fn schemas_carry_enum_values_and_patterns() {
    use utoipa::PartialSchema;
    let s = to_value(ExpertiseType::schema()).unwrap();
    assert_eq!(s["enum"], json!(["VISIO", "EAD", "ESS", "CONTRADICTOIRE"]));
    let s = to_value(ClaimType::schema()).unwrap();
    assert_eq!(
        (s["type"].clone(), s["pattern"].clone()),
        (json!("string"), json!("^[A-Z0-9_]{1,20}$"))
    );
}

#[test]
fn an_expertise_type_index_is_its_position_in_all() {
    for (position, expertise_type) in ExpertiseType::ALL.into_iter().enumerate() {
        assert_eq!(expertise_type.index(), position);
    }
}
