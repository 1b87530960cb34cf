//! The demo catalogue (demo-site/site/data.js `COURSES`): course ids, subjects and tags.
//!
//! Read from the demo site's own file rather than copied, so the simulated students browse
//! exactly the courses the decision service's demo catalogue advertises.

use std::path::Path;

use anyhow::{Context, bail};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Course {
    pub id: String,
    pub subject: String,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Catalogue {
    pub courses: Vec<Course>,
    /// Distinct subjects in order of first appearance.
    pub subjects: Vec<String>,
}

impl Catalogue {
    pub fn load(data_js: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(data_js)
            .with_context(|| format!("reading {}", data_js.display()))?;
        Self::parse(&text)
    }

    /// Parses the `COURSES` array: one `{ id: '…', …, subject: '…', …, tags: […] }` per line.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let start = text
            .find("export const COURSES")
            .context("data.js has no COURSES")?;
        let mut courses = Vec::new();
        for line in text[start..].lines().skip(1) {
            let line = line.trim();
            if line.starts_with("];") {
                break;
            }
            if !line.starts_with('{') {
                continue;
            }
            let id = quoted_after(line, "id: '").context("course without id")?;
            let subject = quoted_after(line, "subject: '").context("course without subject")?;
            let tags = line
                .split_once("tags: [")
                .and_then(|(_, rest)| rest.split_once(']'))
                .map(|(list, _)| {
                    list.split(',')
                        .map(|t| t.trim().trim_matches('\'').to_string())
                        .filter(|t| !t.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            courses.push(Course { id, subject, tags });
        }
        if courses.is_empty() {
            bail!("data.js COURSES is empty");
        }
        let mut subjects: Vec<String> = Vec::new();
        for course in &courses {
            if !subjects.contains(&course.subject) {
                subjects.push(course.subject.clone());
            }
        }
        Ok(Self { courses, subjects })
    }

    pub fn in_subject<'a>(&'a self, subject: &'a str) -> impl Iterator<Item = &'a Course> + 'a {
        self.courses.iter().filter(move |c| c.subject == subject)
    }
}

fn quoted_after(line: &str, marker: &str) -> Option<String> {
    let rest = line.split_once(marker)?.1;
    Some(rest.split_once('\'')?.0.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_demo_catalogue() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo-site/site/data.js");
        let catalogue = Catalogue::load(&path).expect("demo catalogue");
        assert!(catalogue.courses.len() >= 10, "{:?}", catalogue.courses);
        assert!(catalogue.subjects.contains(&"Computer Science".to_string()));
        let dsa = catalogue
            .courses
            .iter()
            .find(|c| c.id == "dsa")
            .expect("dsa");
        assert_eq!(dsa.subject, "Computer Science");
        assert!(dsa.tags.contains(&"algorithms".to_string()));
    }
}
