import { expect } from 'chai';
import { planBackportsSource } from './backportsSource.js';

const DEBIAN_SOURCES = {
  path: '/etc/apt/sources.list.d/debian.sources',
  text: `Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
`,
};

describe('planBackportsSource', () => {
  it('adds bookworm-backports on the mirror the machine already uses', () => {
    const plan = planBackportsSource([DEBIAN_SOURCES], 'bookworm');
    expect(plan.isPresent).to.equal(false);
    expect(plan.mirror).to.equal('http://mirror.example/debian');
    expect(plan.content).to.match(/^Suites: bookworm-backports$/m);
    expect(plan.content).to.match(/^URIs: http:\/\/mirror\.example\/debian$/m);
    expect(plan.content).to.match(/^Signed-By: \/usr\/share\/keyrings\/debian-archive-keyring\.gpg$/m);
  });

  it('adds nothing when a one-line source already names the suite', () => {
    const list = { path: '/etc/apt/sources.list.d/bp.list', text: '# backports\ndeb [arch=amd64] http://deb.debian.org/debian bookworm-backports main\n' };
    expect(planBackportsSource([DEBIAN_SOURCES, list], 'bookworm').isPresent).to.equal(true);
  });

  it('ignores commented and disabled entries', () => {
    const commented = { path: '/etc/apt/sources.list', text: '# deb http://deb.debian.org/debian bookworm-backports main\n' };
    const disabled = { path: '/etc/apt/sources.list.d/x.sources', text: 'Types: deb\nURIs: http://x/debian\nSuites: bookworm-backports\nEnabled: no\n' };
    expect(planBackportsSource([DEBIAN_SOURCES, commented, disabled], 'bookworm').isPresent).to.equal(false);
  });
});
