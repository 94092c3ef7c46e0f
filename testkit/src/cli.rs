//! Command-line checks shared by the three binaries (`axis`, `axis-pki`, `axis-server`).

/// The commands and subcommands of `cmd` (clap's own `help` aside) whose `--help` shows no
/// example using them: no line under an `Example` heading that names the command.
///
/// Every binary's test asserts this is empty, so a new subcommand cannot ship without one.
pub fn commands_without_example(cmd: &clap::Command) -> Vec<String> {
    let mut missing = Vec::new();
    collect(cmd, "", &mut missing);
    missing
}

fn collect(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
    let path = format!("{path} {}", cmd.get_name()).trim().to_owned();
    let help = cmd.clone().render_long_help().to_string();
    let examples = help.split_once("Example").map_or("", |(_, e)| e);
    if !examples.lines().any(|l| l.contains(cmd.get_name())) {
        out.push(path.clone());
    }
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        collect(sub, &path, out);
    }
}

#[cfg(test)]
mod tests {
    use super::commands_without_example;

    #[test]
    fn a_subcommand_without_example_is_named() {
        let cmd = clap::Command::new("tool")
            .after_long_help("Example:\n  tool run")
            .subcommand(clap::Command::new("run").after_long_help("Example:\n  tool run"))
            .subcommand(clap::Command::new("stop").after_long_help("see the manual"));
        assert_eq!(commands_without_example(&cmd), vec!["tool stop".to_owned()]);
    }
}
