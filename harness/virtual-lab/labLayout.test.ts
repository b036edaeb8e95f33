import { expect } from 'chai';
import { bridgeMac, labLayout, MAX_INTERFACE_NAME_CHARS } from './labLayout.js';
import { labYamlConfig } from './labConfigFixture.js';

describe('labLayout', () => {
  it('derives namespaces, links and addresses from the lab file', () => {
    const layout = labLayout(labYamlConfig({ stateDir: '/tmp/hil-state', prefix: 'hil', subnet: '10.231.0' }));
    expect(layout.switchNamespace).to.equal('hil-sw');
    expect(layout.controllerLink).to.equal('hil-ctl');
    expect(layout.prefixLength).to.equal(24);
    expect(layout.hosts.map((h) => h.namespace)).to.deep.equal(['hil-host-a', 'hil-host-b']);
    expect(layout.hosts[0]!.addressCidr).to.equal('10.231.0.11/24');
    expect(layout.hosts[1]!.taps).to.deep.equal(['hil-tap0', 'hil-tap1']);
    expect(layout.hosts[0]!.sshdDir).to.equal('/tmp/hil-state/sshd/host-a');
  });

  it('keeps every interface name within the kernel limit, falling back to an index for long host names', () => {
    const base = labYamlConfig();
    const longHost = { ...base.hosts['host-a']!, name: 'a-very-long-host-name' };
    const layout = labLayout({ ...base, hosts: { [longHost.name]: longHost } });
    expect(layout.hosts[0]!.switchPort).to.equal('hil-port0');
    const names = [layout.controllerLink, layout.controllerPeer, layout.switchBridge, ...layout.hosts.flatMap((h) => [h.bridge, h.uplink, h.switchPort, ...h.taps])];
    for (const name of names) expect(name.length, name).to.be.at.most(MAX_INTERFACE_NAME_CHARS);
  });

  it('refuses a prefix that makes interface names too long, naming the fix', () => {
    const base = labYamlConfig();
    expect(() => labLayout({ ...base, virtualLab: { ...base.virtualLab!, prefix: 'much-too-long' } })).to.throw(/at most|1-15 characters.*virtualLab.prefix/);
  });

  it('refuses a host address outside the controller subnet', () => {
    const base = labYamlConfig();
    const stray = { ...base.hosts['host-a']!, address: '10.9.9.9' };
    expect(() => labLayout({ ...base, hosts: { 'host-a': stray } })).to.throw(/hosts\.host-a\.address.*10\.9\.9\.9/);
  });

  it('gives each bridge a stable, locally administered unicast MAC of its own', () => {
    const mac = bridgeMac('hil-host-a', 'hil-br0');
    expect(mac).to.match(/^02(:[0-9a-f]{2}){5}$/);
    expect(bridgeMac('hil-host-a', 'hil-br0')).to.equal(mac);
    expect(bridgeMac('hil-host-b', 'hil-br0')).to.not.equal(mac);
  });
});
