//! The campaign catalogue (TOML, e.g. `decide/catalogue.toml`): creatives with their
//! subject, course, placements, targeting and frequency cap; the course → subject and
//! keyword → subject tables that map events to interests; the static rotation that
//! `control` serves (the demo site's `campaignFor(slotId)`).
//!
//! Loaded whole and validated before use; [`CatalogueHandle`] swaps in a changed file
//! atomically and keeps the old catalogue when the new one is invalid.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, RwLock},
    time::SystemTime,
};

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("cannot read catalogue {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("catalogue is not valid TOML or has unknown options: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("invalid catalogue: {0}")]
    Invalid(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    /// Placement → [width, height].
    #[serde(default)]
    placements: BTreeMap<String, [u32; 2]>,
    /// Course id → subject.
    #[serde(default)]
    courses: BTreeMap<String, String>,
    /// Keyword (lower case, one or more words) → subject.
    #[serde(default)]
    keywords: BTreeMap<String, String>,
    /// Creative ids, in the order the static rotation hashes slots onto them.
    #[serde(default)]
    static_rotation: Vec<String>,
    /// Decisions of one creative per visitor per UTC day, unless the creative says.
    #[serde(default = "default_cap")]
    default_frequency_cap_per_day: u32,
    #[serde(default)]
    creatives: Vec<RawCreative>,
}

fn default_cap() -> u32 {
    6
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCreative {
    id: String,
    campaign: String,
    course: String,
    /// Defaults to the course's subject.
    #[serde(default)]
    subject: String,
    /// Placements it can fill; empty: all.
    #[serde(default)]
    placements: Vec<String>,
    /// Targeting: only these colleges / cohorts; empty: anybody.
    #[serde(default)]
    colleges: Vec<String>,
    #[serde(default)]
    cohorts: Vec<String>,
    #[serde(default)]
    frequency_cap_per_day: Option<u32>,
    #[serde(default)]
    headline: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    cta: String,
    #[serde(default)]
    hue: u32,
}

/// One creative, validated.
#[derive(Debug, Clone)]
pub struct Creative {
    pub id: String,
    pub campaign: String,
    pub course: String,
    pub subject: String,
    pub placements: Vec<String>,
    pub colleges: Vec<String>,
    pub cohorts: Vec<String>,
    /// Decisions per visitor per UTC day (0: uncapped).
    pub frequency_cap_per_day: u32,
    pub headline: String,
    pub body: String,
    pub cta: String,
    pub hue: u32,
}

impl Creative {
    pub fn fits(&self, placement: &str) -> bool {
        self.placements.is_empty() || self.placements.iter().any(|p| p == placement)
    }

    /// Targeting constraints: an empty list allows everybody; a non-empty one only the
    /// visitors who state a listed college / cohort.
    pub fn targets(&self, college: &str, cohort: &str) -> bool {
        (self.colleges.is_empty() || self.colleges.iter().any(|c| c == college))
            && (self.cohorts.is_empty() || self.cohorts.iter().any(|c| c == cohort))
    }
}

#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub creatives: Vec<Creative>,
    by_id: HashMap<String, usize>,
    by_campaign: HashMap<String, usize>,
    placements: HashMap<String, (u32, u32)>,
    courses: HashMap<String, String>,
    /// (keyword words, subject), longest first.
    keywords: Vec<(Vec<String>, String)>,
    static_rotation: Vec<usize>,
}

impl Catalogue {
    pub fn from_toml(text: &str) -> Result<Self, CatalogueError> {
        let raw: RawCatalogue = toml::from_str(text)?;
        let invalid = |m: String| Err(CatalogueError::Invalid(m));
        let mut catalogue = Catalogue {
            placements: raw
                .placements
                .into_iter()
                .map(|(k, [w, h])| (k, (w, h)))
                .collect(),
            courses: raw.courses.into_iter().collect(),
            ..Default::default()
        };
        for c in raw.creatives {
            if c.id.is_empty() || c.campaign.is_empty() {
                return invalid("every creative needs an id and a campaign".into());
            }
            let subject = if c.subject.is_empty() {
                match catalogue.courses.get(&c.course) {
                    Some(s) => s.clone(),
                    None => {
                        return invalid(format!(
                            "creative {:?}: no subject and course {:?} is not in [courses]",
                            c.id, c.course
                        ));
                    }
                }
            } else {
                c.subject
            };
            for p in &c.placements {
                if !catalogue.placements.contains_key(p) {
                    return invalid(format!("creative {:?}: unknown placement {p:?}", c.id));
                }
            }
            let index = catalogue.creatives.len();
            if catalogue.by_id.insert(c.id.clone(), index).is_some() {
                return invalid(format!("creative {:?} is listed twice", c.id));
            }
            catalogue
                .by_campaign
                .entry(c.campaign.clone())
                .or_insert(index);
            catalogue.creatives.push(Creative {
                id: c.id,
                campaign: c.campaign,
                course: c.course,
                subject,
                placements: c.placements,
                colleges: c.colleges,
                cohorts: c.cohorts,
                frequency_cap_per_day: c
                    .frequency_cap_per_day
                    .unwrap_or(raw.default_frequency_cap_per_day),
                headline: c.headline,
                body: c.body,
                cta: c.cta,
                hue: c.hue,
            });
        }
        if catalogue.creatives.is_empty() {
            return invalid("no creative".into());
        }
        for id in raw.static_rotation {
            match catalogue.by_id.get(&id) {
                Some(&i) => catalogue.static_rotation.push(i),
                None => return invalid(format!("static_rotation names unknown creative {id:?}")),
            }
        }
        if catalogue.static_rotation.is_empty() {
            return invalid("static_rotation is empty".into());
        }
        let mut keywords: Vec<(Vec<String>, String)> = raw
            .keywords
            .into_iter()
            .map(|(k, s)| (words(&k), s))
            .filter(|(k, _)| !k.is_empty())
            .collect();
        // Subject names are keywords of themselves ("computer science").
        let subjects: Vec<String> = catalogue.subjects().map(str::to_owned).collect();
        keywords.extend(subjects.into_iter().map(|s| (words(&s), s)));
        keywords.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        catalogue.keywords = keywords;
        Ok(catalogue)
    }

    pub fn load(path: &Path) -> Result<Self, CatalogueError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogueError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Every subject a course or creative names.
    pub fn subjects(&self) -> impl Iterator<Item = &str> {
        let mut all: Vec<&str> = self
            .courses
            .values()
            .map(String::as_str)
            .chain(self.creatives.iter().map(|c| c.subject.as_str()))
            .collect();
        all.sort_unstable();
        all.dedup();
        all.into_iter()
    }

    pub fn creative(&self, id: &str) -> Option<&Creative> {
        self.by_id.get(id).map(|&i| &self.creatives[i])
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The creative an ad event names: the page's `data-ad-creative` is the creative id
    /// with the size appended (`gre-prep-v3-728x90`), so that suffix is tried off too;
    /// else the campaign's first creative.
    pub fn creative_of_ad(&self, creative_id: &str, campaign_id: &str) -> Option<&Creative> {
        self.creative(creative_id)
            .or_else(|| {
                let (base, size) = creative_id.rsplit_once('-')?;
                let (w, h) = size.split_once('x')?;
                (w.parse::<u32>().is_ok() && h.parse::<u32>().is_ok())
                    .then(|| self.creative(base))
                    .flatten()
            })
            .or_else(|| {
                self.by_campaign
                    .get(campaign_id)
                    .map(|&i| &self.creatives[i])
            })
    }

    pub fn size_of(&self, placement: &str) -> Option<(u32, u32)> {
        self.placements.get(placement).copied()
    }

    pub fn course_subject(&self, course: &str) -> Option<&str> {
        self.courses.get(course).map(String::as_str)
    }

    /// The subject of a page path: `/courses/<id>` (under any base such as `/catalogue`)
    /// is its course's; `/subject/<slug>` the subject whose slug it is.
    pub fn subject_of_path(&self, path: &str) -> Option<&str> {
        let mut parts = path.trim_end_matches('/').rsplit('/');
        let last = parts.next()?;
        match parts.next()? {
            "courses" => self.course_subject(last),
            "subject" => self.subjects().find(|s| slug(s) == last),
            _ => None,
        }
    }

    /// The subject of a full URL or a path (query and fragment ignored).
    pub fn subject_of_url(&self, url: &str) -> Option<&str> {
        let path = match url.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
            None => url,
        };
        let path = path.split(['?', '#']).next().unwrap_or(path);
        self.subject_of_path(path)
    }

    /// Subjects a search query names, each once, longest keyword first.
    pub fn subjects_of_query(&self, query: &str) -> Vec<&str> {
        let query = words(query);
        let mut found: Vec<&str> = Vec::new();
        for (keyword, subject) in &self.keywords {
            if query
                .windows(keyword.len())
                .any(|w| w == keyword.as_slice())
                && !found.contains(&subject.as_str())
            {
                found.push(subject);
            }
        }
        found
    }

    /// The static creative of a slot: the demo site's `campaignFor(slotId)` (a 31-based
    /// hash of the slot id's UTF-16 units, modulo the rotation's length), so `control`
    /// shows exactly what the site showed before the service existed.
    pub fn static_for_slot(&self, slot: &str) -> &Creative {
        let mut h: u32 = 0;
        for unit in slot.encode_utf16() {
            h = h.wrapping_mul(31).wrapping_add(u32::from(unit));
        }
        let len = self.static_rotation.len().max(1);
        let pick = self
            .static_rotation
            .get(h as usize % len)
            .copied()
            .unwrap_or(0);
        &self.creatives[pick]
    }
}

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The demo site's `slugOf(subject)`.
pub fn slug(subject: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in subject.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
            dash = false;
        } else if !dash {
            out.push('-');
            dash = true;
        }
    }
    out
}

/// The catalogue in force, replaced when its file changes.
pub struct CatalogueHandle {
    current: RwLock<Arc<Catalogue>>,
    path: PathBuf,
    modified: Mutex<Option<SystemTime>>,
}

impl CatalogueHandle {
    pub fn open(path: &Path) -> Result<Self, CatalogueError> {
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        Ok(Self {
            current: RwLock::new(Arc::new(Catalogue::load(path)?)),
            path: path.to_owned(),
            modified: Mutex::new(modified),
        })
    }

    /// A fixed catalogue (tests, benchmarks).
    pub fn fixed(catalogue: Catalogue) -> Self {
        Self {
            current: RwLock::new(Arc::new(catalogue)),
            path: PathBuf::new(),
            modified: Mutex::new(None),
        }
    }

    pub fn get(&self) -> Arc<Catalogue> {
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the file when its modification time changed. `Ok(true)`: replaced.
    pub fn reload_if_changed(&self) -> Result<bool, CatalogueError> {
        if self.path.as_os_str().is_empty() {
            return Ok(false);
        }
        let modified = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok();
        let mut last = self.modified.lock().unwrap_or_else(|p| p.into_inner());
        if modified == *last {
            return Ok(false);
        }
        *last = modified;
        let fresh = Arc::new(Catalogue::load(&self.path)?);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const DEMO: &str = include_str!("../catalogue.toml");

    #[test]
    fn the_demo_catalogue_loads_and_maps_urls_and_queries() {
        let c = Catalogue::from_toml(DEMO).unwrap();
        assert_eq!(
            c.subject_of_url("http://localhost:5173/courses/dsa?x=1"),
            Some("Computer Science")
        );
        assert_eq!(
            c.subject_of_url("https://x/catalogue/courses/calc-1"),
            Some("Mathematics")
        );
        assert_eq!(
            c.subject_of_url("/subject/computer-science"),
            Some("Computer Science")
        );
        assert_eq!(c.subject_of_url("/search?q=x"), None);
        assert_eq!(
            c.subjects_of_query("Machine Learning basics"),
            vec!["Computer Science"]
        );
        assert!(c.subjects_of_query("gardening").is_empty());
        assert_eq!(
            c.creative_of_ad("gre-prep-v3-728x90", "")
                .map(|c| c.subject.as_str()),
            Some("Test Prep")
        );
    }

    #[test]
    fn the_static_rotation_is_the_demo_sites_campaign_for() {
        // campaignFor('search-top-banner') in demo-site/site/data.js, computed by hand:
        // the same 31-based hash modulo the five campaigns.
        let c = Catalogue::from_toml(DEMO).unwrap();
        let mut h: u32 = 0;
        for b in "search-top-banner".bytes() {
            h = h.wrapping_mul(31).wrapping_add(u32::from(b));
        }
        let order = [
            "gre-prep-v3",
            "laptop-deal-v1",
            "bootcamp-v2",
            "abroad-fair-v1",
            "edu-loan-v2",
        ];
        assert_eq!(
            c.static_for_slot("search-top-banner").id,
            order[h as usize % 5]
        );
    }

    #[test]
    fn invalid_catalogues_are_refused() {
        assert!(Catalogue::from_toml("").is_err());
        assert!(
            Catalogue::from_toml("[[creatives]]\nid='a'\ncampaign='c'\ncourse='nope'\n").is_err()
        );
    }
}

#[cfg(test)]
mod reload_tests {
    use super::*;

    #[test]
    fn a_changed_file_is_reloaded_and_an_invalid_one_keeps_the_old() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalogue.toml");
        let demo = include_str!("../catalogue.toml");
        std::fs::write(&path, demo).unwrap();
        let handle = CatalogueHandle::open(&path).unwrap();
        assert!(!handle.reload_if_changed().unwrap());
        // A later modification time than the first write (coarse file system clocks).
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::write(&path, "not toml [").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert!(handle.reload_if_changed().is_err());
        assert_eq!(handle.get().creatives.len(), 12, "old catalogue kept");
        let retargeted = demo.replace("colleges = [\"IIT Madras\"]", "colleges = [\"IIT Bombay\"]");
        std::fs::write(&path, retargeted).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(later + std::time::Duration::from_secs(5))
            .unwrap();
        assert!(handle.reload_if_changed().unwrap());
        let reloaded = handle.get();
        assert_eq!(
            reloaded.creative("iitm-hackathon-v1").unwrap().colleges,
            ["IIT Bombay"]
        );
    }
}
