//! User agent → device class, browser and OS (woothee), and whether the agent is a known
//! crawler (the `isbot` patterns, pinned with the crate). Agents repeat heavily (a few
//! hundred strings cover most traffic), so results are cached: a request costs one hash
//! lookup, a new agent one parse.

use std::{collections::HashMap, sync::Mutex};

use sightline_proto::v1::{DeviceClass, DeviceInfo};

/// What one user agent string says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentInfo {
    pub device: DeviceInfo,
    /// On the crawler list (isbot) or parsed as a crawler (woothee).
    pub crawler: bool,
}

/// Parser plus a bounded cache of its answers.
pub struct AgentParser {
    woothee: woothee::parser::Parser,
    bots: isbot::Bots,
    cache: Mutex<HashMap<Box<str>, AgentInfo>>,
    capacity: usize,
}

impl AgentParser {
    /// `capacity`: distinct agents kept; 0 disables the cache.
    pub fn new(capacity: usize) -> Self {
        Self {
            woothee: woothee::parser::Parser::new(),
            bots: isbot::Bots::default(),
            cache: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The agent's facts, from the cache when seen before.
    pub fn parse(&self, agent: &str) -> AgentInfo {
        if self.capacity > 0
            && let Ok(cache) = self.cache.lock()
            && let Some(hit) = cache.get(agent)
        {
            return hit.clone();
        }
        let info = self.parse_uncached(agent);
        if self.capacity > 0
            && let Ok(mut cache) = self.cache.lock()
        {
            // Bounded by starting over rather than tracking recency: the hot agents are back
            // within a few requests, and a flood of unique agents (forged per request) costs
            // a parse each but never memory beyond `capacity`.
            if cache.len() >= self.capacity {
                cache.clear();
            }
            cache.insert(agent.into(), info.clone());
        }
        info
    }

    /// Entries in the cache now.
    pub fn cached(&self) -> usize {
        self.cache.lock().map_or(0, |c| c.len())
    }

    fn parse_uncached(&self, agent: &str) -> AgentInfo {
        if agent.is_empty() {
            return AgentInfo::default();
        }
        let listed = self.bots.is_bot(agent);
        let Some(parsed) = self.woothee.parse(agent) else {
            return AgentInfo {
                device: DeviceInfo {
                    device_class: if listed {
                        DeviceClass::Bot
                    } else {
                        DeviceClass::Other
                    } as i32,
                    ..Default::default()
                },
                crawler: listed,
            };
        };
        let crawler = listed || parsed.category == "crawler";
        let device_class = if crawler {
            DeviceClass::Bot
        } else {
            device_class(parsed.category, parsed.os, agent)
        };
        AgentInfo {
            device: DeviceInfo {
                device_class: device_class as i32,
                browser: known(parsed.name),
                browser_major: major(parsed.version),
                os: known(parsed.os),
                os_major: major(&parsed.os_version),
            },
            crawler,
        }
    }
}

/// woothee has no tablet category: iPads and Android devices without "Mobile" in the agent
/// (Google's rule for Android tablets) are reported as tablets. iPadOS 13+ in its default
/// "desktop" mode sends a Mac agent and counts as desktop: the agent cannot tell.
fn device_class(category: &str, os: &str, agent: &str) -> DeviceClass {
    match category {
        "pc" => DeviceClass::Desktop,
        "smartphone" | "mobilephone" => {
            if os == "iPad" || (os == "Android" && !agent.contains("Mobile")) {
                DeviceClass::Tablet
            } else {
                DeviceClass::Mobile
            }
        }
        "crawler" => DeviceClass::Bot,
        _ => DeviceClass::Other,
    }
}

fn known(value: &str) -> String {
    if value == woothee::woothee::VALUE_UNKNOWN {
        String::new()
    } else {
        value.to_owned()
    }
}

/// Leading digits of a version ("120.0.6099" → 120, "NT 10.0" → 10); 0 when none.
fn major(version: &str) -> u32 {
    version
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real agents of crawlers that run JavaScript or fetch pages (samples from the
    /// crawlers' own documentation and server logs).
    const CRAWLERS: &[&str] = &[
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.216 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Twitterbot/1.0",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 Edg/114.0.1823.43 (compatible; Google-Read-Aloud; +https://support.google.com/webmasters/answer/1061943)",
        "python-requests/2.31.0",
        "curl/8.5.0",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)",
    ];

    /// Real browser agents (current Chrome, Safari, Firefox, Edge on desktop and phones).
    const BROWSERS: &[(&str, DeviceClass)] = &[
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            DeviceClass::Desktop,
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
            DeviceClass::Desktop,
        ),
        (
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            DeviceClass::Desktop,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
            DeviceClass::Desktop,
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.104 Mobile Safari/537.36",
            DeviceClass::Mobile,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            DeviceClass::Mobile,
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
            DeviceClass::Tablet,
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            DeviceClass::Tablet,
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 OPR/86.0.0.0",
            DeviceClass::Mobile,
        ),
    ];

    #[test]
    fn crawlers_are_caught() {
        let parser = AgentParser::new(16);
        for agent in CRAWLERS {
            let info = parser.parse(agent);
            assert!(info.crawler, "not caught: {agent}");
            assert_eq!(info.device.device_class, DeviceClass::Bot as i32, "{agent}");
        }
    }

    #[test]
    fn browsers_are_not_crawlers_and_get_their_device_class() {
        let parser = AgentParser::new(16);
        for (agent, class) in BROWSERS {
            let info = parser.parse(agent);
            assert!(!info.crawler, "flagged as crawler: {agent}");
            assert_eq!(info.device.device_class, *class as i32, "{agent}");
            assert!(!info.device.browser.is_empty(), "{agent}");
            assert!(info.device.browser_major > 0, "{agent}");
        }
    }

    #[test]
    fn the_test_suites_agents_are_what_they_play() {
        let parser = AgentParser::new(0);
        // tests/e2e: students and the human-like visit are people's browsers, the crawler
        // visit is a crawler.
        for agent in [
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 SightlineE2E/run/asha",
            "Mozilla/5.0 (X11; Linux x86_64) Chrome/140 SightlineE2E/run/asha",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 SightlineIvt/run/human",
        ] {
            assert!(!parser.parse(agent).crawler, "{agent}");
        }
        let crawler = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html) SightlineIvt/run/crawler";
        assert!(parser.parse(crawler).crawler);
    }

    #[test]
    fn browser_and_os_versions() {
        let parser = AgentParser::new(0);
        let chrome = parser.parse(BROWSERS[0].0).device;
        assert_eq!(
            (chrome.browser.as_str(), chrome.browser_major),
            ("Chrome", 131)
        );
        assert_eq!(chrome.os, "Windows 10");
        let iphone = parser.parse(BROWSERS[5].0).device;
        assert_eq!(
            (iphone.browser.as_str(), iphone.browser_major),
            ("Safari", 17)
        );
        assert_eq!((iphone.os.as_str(), iphone.os_major), ("iPhone", 17));
        assert_eq!(major("NT 10.0"), 10);
        assert_eq!(major("UNKNOWN"), 0);
        assert_eq!(major(""), 0);
    }

    #[test]
    fn empty_and_garbage_agents_do_not_panic() {
        let parser = AgentParser::new(4);
        assert_eq!(parser.parse(""), AgentInfo::default());
        let odd = parser.parse("\u{0}\u{ffff}💥 / ; ( )");
        assert!(!odd.crawler);
        assert_eq!(odd.device.device_class, DeviceClass::Other as i32);
    }

    #[test]
    fn the_cache_is_bounded_and_answers_like_the_parser() {
        let parser = AgentParser::new(3);
        let fresh = AgentParser::new(0);
        for i in 0..10 {
            let agent =
                format!("Mozilla/5.0 (X11; Linux x86_64; rv:{i}.0) Gecko/20100101 Firefox/{i}.0");
            assert_eq!(parser.parse(&agent), fresh.parse(&agent));
            assert!(parser.cached() <= 3);
        }
        let agent = BROWSERS[0].0;
        assert_eq!(parser.parse(agent), parser.parse(agent));
    }
}
