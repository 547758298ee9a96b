//! `creneau demo`: a demo firm with twenty experts spread over Île-de-France, a protocol
//! client, and curl commands that work as printed.

use serde_json::json;

use std::net::SocketAddr;

use crate::domain::expert::ExpertProfile;
use crate::domain::firm::FirmProfile;
use crate::store::Store;

/// SIRET of the demo firm (Luhn-valid, fictitious).
const DEMO_SIRET: &str = "90432165400017";

/// (name, city, postal code, department, lat, lon)
const EXPERTS: [(&str, &str, &str, &str, f64, f64); 20] = [
    ("A. Bernard", "Paris 11e", "75011", "75", 48.8590, 2.3790),
    ("C. Dubois", "Paris 15e", "75015", "75", 48.8417, 2.2986),
    ("M. Thomas", "Paris 18e", "75018", "75", 48.8925, 2.3444),
    ("S. Robert", "Paris 8e", "75008", "75", 48.8763, 2.3183),
    (
        "L. Richard",
        "Boulogne-Billancourt",
        "92100",
        "92",
        48.8397,
        2.2399,
    ),
    ("N. Petit", "Nanterre", "92000", "92", 48.8924, 2.2071),
    (
        "J. Durand",
        "Rueil-Malmaison",
        "92500",
        "92",
        48.8778,
        2.1803,
    ),
    ("É. Leroy", "Saint-Denis", "93200", "93", 48.9362, 2.3574),
    ("P. Moreau", "Montreuil", "93100", "93", 48.8638, 2.4485),
    ("I. Simon", "Créteil", "94000", "94", 48.7904, 2.4556),
    ("T. Laurent", "Vincennes", "94300", "94", 48.8474, 2.4392),
    ("C. Lefebvre", "Versailles", "78000", "78", 48.8049, 2.1204),
    (
        "H. Michel",
        "Saint-Germain-en-Laye",
        "78100",
        "78",
        48.8989,
        2.0938,
    ),
    (
        "V. Garcia",
        "Évry-Courcouronnes",
        "91000",
        "91",
        48.6290,
        2.4410,
    ),
    ("R. David", "Massy", "91300", "91", 48.7309, 2.2713),
    ("G. Bertrand", "Cergy", "95000", "95", 49.0364, 2.0761),
    ("A. Roux", "Argenteuil", "95100", "95", 48.9472, 2.2467),
    ("F. Vincent", "Meaux", "77100", "77", 48.9601, 2.8788),
    ("B. Fournier", "Melun", "77000", "77", 48.5421, 2.6554),
    ("D. Morel", "Torcy", "77200", "77", 48.8502, 2.6508),
];

/// Neighbouring departments covered besides the expert's own.
fn neighbours(department: &str) -> &'static [&'static str] {
    match department {
        "75" => &["92", "93", "94"],
        "92" => &["75", "78", "95"],
        "93" => &["75", "94", "95", "77"],
        "94" => &["75", "93", "91", "77"],
        "78" => &["92", "95", "91"],
        "91" => &["94", "78", "77"],
        "95" => &["92", "93", "78"],
        _ => &["93", "94", "91"],
    }
}

fn expert(i: usize) -> serde_json::Value {
    let (name, city, postal, department, lat, lon) = EXPERTS[i];
    let mut departments = vec![department];
    departments.extend_from_slice(neighbours(department));
    let repairer = i % 7 == 6;
    let claim_types = match i % 4 {
        0 => json!(["DDE", "DE"]),
        1 => json!(["DDE", "VOL", "DE"]),
        2 => json!(["CATNAT", "DDE", "DE"]),
        _ => json!(["DDE"]),
    };
    let expertise_types = match i % 3 {
        0 => json!(["ESS", "VISIO"]),
        1 => json!(["ESS", "CONTRADICTOIRE", "EAD"]),
        _ => json!(["ESS", "VISIO", "EAD"]),
    };
    let day = json!([["08:30", "12:00"], ["13:30", "18:00"]]);
    let weekly_hours = if i % 5 == 4 {
        json!({ "MON": day, "TUE": day, "WED": day, "THU": day })
    } else if i % 6 == 1 {
        json!({ "MON": day, "TUE": day, "WED": day, "THU": day, "FRI": day, "SAT": [["09:00", "12:00"]] })
    } else {
        json!({ "MON": day, "TUE": day, "WED": day, "THU": day, "FRI": day })
    };
    let slug: String = name
        .chars()
        .filter(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_lowercase();
    json!({
        "displayName": name,
        "email": format!("{slug}@cabinet-demo.example"),
        "phone": format!("+33 1 40 00 00 {i:02}"),
        "partnerKind": if repairer { "REN" } else { "EXPERT" },
        "timeZone": "Europe/Paris",
        "base": {
            "address": { "line1": "1 place de la Mairie", "postalCode": postal, "city": city, "country": "FR" },
            "geo": { "lat": lat, "lon": lon }
        },
        "zone": { "departments": departments, "radiusKm": 25 + (i % 3) * 10 },
        "skills": {
            "claimTypes": claim_types,
            "expertiseTypes": expertise_types,
            "insurers": if i % 5 == 2 { json!(["AXA", "MAIF"]) } else { json!([]) },
            "insuredTypes": if i % 6 == 5 { json!(["PRO"]) } else { json!([]) },
            "dwellingTypes": [],
            "maxStake": if i % 4 == 3 { json!(15000.00) } else { json!(50000.00) }
        },
        "durationsMinutes": { "VISIO": 45, "EAD": 60, "ESS": 90, "CONTRADICTOIRE": 120 },
        "bufferMinutes": 15,
        "maxAppointmentsPerDay": 4 + i % 3,
        "minNoticeHours": 24,
        "weeklyHours": weekly_hours
    })
}

async fn create_demo_firm(store: &dyn Store) -> anyhow::Result<crate::store::Firm> {
    let profile =
        FirmProfile::from_stored("Cabinet Démo Expertises".into(), DEMO_SIRET, "Europe/Paris")
            .map_err(anyhow::Error::msg)?;
    let firm = store.create_firm(&profile).await?;
    for i in 0..EXPERTS.len() {
        let profile: ExpertProfile = serde_json::from_value(expert(i))?;
        profile
            .check()
            .map_err(|e| anyhow::anyhow!("{}: {}", e.pointer, e.detail))?;
        store.create_expert(&firm.id, &profile).await?;
    }
    Ok(firm)
}

/// A video visit of the firm's first expert yesterday at 10:00 (Paris), booked by
/// `client_id` and COMPLETED, so that the settlement flow can be tried at once; returns
/// its id.
async fn visited_yesterday(
    store: &dyn Store,
    firm_id: &str,
    client_id: &str,
) -> anyhow::Result<String> {
    use crate::domain::ExpertiseType;
    use crate::domain::appointment::{AppointmentStatus, Mode};
    let page = crate::store::PageRequest {
        after: None,
        limit: 1,
    };
    let expert = store
        .list_experts(firm_id, None, &page)
        .await?
        .items
        .pop()
        .ok_or_else(|| anyhow::anyhow!("the demo firm has no expert"))?;
    let now = crate::clock::Clock::system().now();
    let yesterday = (now.with_timezone(&chrono_tz::Europe::Paris) - chrono::Duration::days(1))
        .date_naive()
        .and_hms_opt(10, 0, 0)
        .and_then(|t| t.and_local_timezone(chrono_tz::Europe::Paris).single())
        .ok_or_else(|| anyhow::anyhow!("no 10:00 yesterday"))?
        .with_timezone(&chrono::Utc);
    let now = chrono::DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
    let appointment = crate::store::Appointment {
        id: uuid::Uuid::now_v7().to_string(),
        firm_id: firm_id.to_owned(),
        expert_id: expert.id,
        client_id: client_id.to_owned(),
        status: AppointmentStatus::Confirmed,
        version: 1,
        start: yesterday,
        end: yesterday + chrono::Duration::minutes(45),
        mode: Mode::Remote,
        expertise_type: ExpertiseType::Visio,
        place: None,
        claims_ia_ref: format!(
            "CIA-DEMO-VISITED-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ),
        claim_ref: None,
        contact: None,
        comment: None,
        cancellation: None,
        created_at: now,
        updated_at: now,
        search_id: None,
    };
    // The demo's own past visit: no schedule rule applies to it.
    store
        .book(&appointment, std::sync::Arc::new(|_| true), None)
        .await
        .map_err(|e| anyhow::anyhow!("booking the demo visit: {e}"))?;
    store.complete_appointment(firm_id, &appointment.id).await?;
    Ok(appointment.id)
}

/// Loads the demo data (once; later runs reuse the firm and mint fresh credentials) and
/// returns the text to print.
pub async fn load(store: &dyn Store, address: SocketAddr) -> anyhow::Result<String> {
    let firm = match store.firm_by_siret(DEMO_SIRET).await? {
        Some(firm) => firm,
        None => create_demo_firm(store).await?,
    };
    let (client_id, secret) = super::firm_credentials(store, &firm.id).await?;
    let (api_client_id, api_key) = super::api_client(store, "Claims IA (demo)").await?;
    let visited = visited_yesterday(store, &firm.id, &api_client_id).await?;
    let base = format!("http://{address}");
    Ok(format!(
        "Demo firm \"{name}\" ({id}) with {n} experts in Île-de-France.
Firm admin credentials: client_id={client_id} client_secret={secret}
Claims IA API key: {api_key}

Try, once the server below is listening:

  curl -sS {base}/healthz
  TOKEN=$(curl -sS -X POST {base}/admin/v1/token -d grant_type=client_credentials \\
      -d client_id={client_id} -d client_secret={secret} \\
      | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')
  curl -sS {base}/admin/v1/firm -H \"Authorization: Bearer $TOKEN\"
  curl -sS '{base}/admin/v1/experts?limit=5' -H \"Authorization: Bearer $TOKEN\"

  # Claims IA, Etape 1 and 2: search slots for a water-damage claim in Paris 2e, book one.
  SLOT=$(curl -sS -X POST {base}/v1/slot-searches -H \"Authorization: Bearer {api_key}\" \\
      -H 'Content-Type: application/json' -d '{{\"insurer\": \"AXA\", \"insuredType\": \"PARTICULIER\",
        \"claimType\": \"DDE\", \"expertiseType\": \"ESS\", \"stake\": {{\"total\": 4200.00}},
        \"appointmentPlace\": {{\"address\": {{\"line1\": \"12 rue de la Paix\", \"postalCode\": \"75002\",
        \"city\": \"Paris\"}}}}}}' | sed -E 's/^[^[]*\\[\\{{\"slotId\":\"([^\"]+)\".*/\\1/')
  curl -sS -X POST {base}/v1/appointments -H \"Authorization: Bearer {api_key}\" \\
      -H 'Content-Type: application/json' -H \"Idempotency-Key: demo-$RANDOM\" \\
      -d \"{{\\\"slotId\\\": \\\"$SLOT\\\", \\\"claimsIaRef\\\": \\\"CIA-DEMO-$RANDOM\\\"}}\"

  # After the visit (appointment {visited}, COMPLETED yesterday): upload the report and the
  # fee note, then file the settlement; Claims IA reads it back.
  printf '%%PDF-1.7\\n%% rapport\\n%%%%EOF\\n' > rapport.pdf
  printf '%%PDF-1.7\\n%% honoraires\\n%%%%EOF\\n' > honoraires.pdf
  REPORT=$(curl -sS {base}/admin/v1/uploads -H \"Authorization: Bearer $TOKEN\" -F file=@rapport.pdf \\
      | sed -E 's/.*\"key\":\"([^\"]+)\".*/\\1/')
  FEES=$(curl -sS {base}/admin/v1/uploads -H \"Authorization: Bearer $TOKEN\" \\
      -H 'Content-Type: application/json' \\
      -d \"{{\\\"fileNameWithExtension\\\": \\\"honoraires.pdf\\\", \\\"file\\\": \\\"$(base64 -w0 honoraires.pdf)\\\"}}\" \\
      | sed -E 's/.*\"key\":\"([^\"]+)\".*/\\1/')
  curl -sS -i {base}/admin/v1/appointments/{visited}/settlements -H \"Authorization: Bearer $TOKEN\" \\
      -H 'Content-Type: application/json' -H \"Idempotency-Key: demo-$RANDOM\" -d \"{{\\\"type\\\": \\\"INVOICE\\\",
        \\\"reference\\\": \\\"MH-DEMO-$RANDOM\\\", \\\"date\\\": \\\"$(date +%F)\\\",
        \\\"fees\\\": {{\\\"net\\\": 200.00, \\\"vat\\\": 40.00, \\\"gross\\\": 240.00}},
        \\\"damage\\\": {{\\\"net\\\": 3000.00, \\\"vat\\\": 600.00, \\\"gross\\\": 3600.00}},
        \\\"feeNoteKey\\\": \\\"$FEES\\\", \\\"reportKey\\\": \\\"$REPORT\\\"}}\"
  curl -sS {base}/v1/appointments/{visited}/settlements -H \"Authorization: Bearer {api_key}\"

API documentation: {base}/docs
",
        name = firm.profile.name,
        id = firm.id,
        n = EXPERTS.len(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_expert_is_a_valid_profile() {
        for i in 0..EXPERTS.len() {
            let profile: ExpertProfile = serde_json::from_value(expert(i)).unwrap();
            assert_eq!(profile.check(), Ok(()), "expert {i}");
        }
    }
}
