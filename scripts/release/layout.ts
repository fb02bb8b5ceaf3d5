// What the agent release holds besides the executable, lib/ and models/: the files the installer
// (deploy/install-agent.sh) and a technician need, at their place in the release.

/** [path in the repository, path in the release]. install-agent.sh expects the deploy/ ones there. */
export const RELEASE_FILES: ReadonlyArray<readonly [string, string]> = [
  ['deploy/systemd/roadwatch-agent.service', 'deploy/roadwatch-agent.service'],
  ['deploy/install-agent.sh', 'deploy/install-agent.sh'],
  ['deploy/env/agent.env.example', 'deploy/agent.env.example'],
  ['deploy/env/agent.json.example', 'deploy/agent.json.example'],
  ['docs/RELEASE.md', 'RELEASE.md'],
  ['docs/FIELD.md', 'FIELD.md'],
];
